import { LuaScript } from './connection';

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Membership and partition leases of one group on one topic, in one atomic step (server time).
 * KEYS: members zset, leases hash. ARGV: member, ttlMs, partitions, mode ('join' | 'beat' | 'leave'),
 * partitions to release...
 * Lease value: `member|token|expiresAt`; `seq` is the fencing counter.
 * Returns `{ target, live, partition, token, ... }` for the partitions the member owns afterwards.
 */
export const LEASE_SCRIPT: LuaScript = new LuaScript(`${NOW}
local member = ARGV[1]
local ttl = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local mode = ARGV[4]
local mine = member .. '|'
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local releasing = {}
for i = 5, #ARGV do releasing[ARGV[i]] = true end
if mode == 'leave' then
  redis.call('ZREM', KEYS[1], member)
  for p = 0, count - 1 do
    local v = redis.call('HGET', KEYS[2], tostring(p))
    if v and string.sub(v, 1, #mine) == mine then redis.call('HDEL', KEYS[2], tostring(p)) end
  end
  return {0, redis.call('ZCARD', KEYS[1])}
end
redis.call('ZADD', KEYS[1], now + ttl, member)
redis.call('PEXPIRE', KEYS[1], ttl * 3)
local live = redis.call('ZCARD', KEYS[1])
local target = math.ceil(count / live)
local result = {target, live}
if mode == 'join' then return result end
local owned = 0
local free = {}
for p = 0, count - 1 do
  local field = tostring(p)
  local v = redis.call('HGET', KEYS[2], field)
  if v then
    local a = string.find(v, '|', 1, true)
    local b = string.find(v, '|', a + 1, true)
    local owner = string.sub(v, 1, a - 1)
    local token = string.sub(v, a + 1, b - 1)
    local expires = tonumber(string.sub(v, b + 1))
    if owner == member then
      if releasing[field] then
        redis.call('HDEL', KEYS[2], field)
      else
        redis.call('HSET', KEYS[2], field, mine .. token .. '|' .. (now + ttl))
        owned = owned + 1
        result[#result + 1] = p
        result[#result + 1] = token
      end
    elseif expires <= now or not redis.call('ZSCORE', KEYS[1], owner) then
      free[#free + 1] = p
    end
  else
    free[#free + 1] = p
  end
end
for _, p in ipairs(free) do
  if owned >= target then break end
  local token = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  redis.call('HSET', KEYS[2], tostring(p), mine .. token .. '|' .. (now + ttl))
  owned = owned + 1
  result[#result + 1] = p
  result[#result + 1] = tostring(token)
end
redis.call('PEXPIRE', KEYS[2], ttl * 3)
return result`);

/**
 * Moves due delayed messages of a topic into their partition streams.
 * KEYS: delayed zset, then every partition stream in order. ARGV: now (epoch ms), limit.
 * Member: `partition|nonce|["field","value",...]`. Returns `{ moved, nextDueScore or -1 }`.
 */
export const MOVE_DUE_SCRIPT: LuaScript =
  new LuaScript(`local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local streams = #KEYS - 1
for _, m in ipairs(due) do
  local a = string.find(m, '|', 1, true)
  local b = a and string.find(m, '|', a + 1, true)
  local p = a and tonumber(string.sub(m, 1, a - 1))
  if p and b then
    local ok, fields = pcall(cjson.decode, string.sub(m, b + 1))
    if ok and type(fields) == 'table' and #fields > 0 then
      redis.call('XADD', KEYS[(p % streams) + 2], '*', unpack(fields))
    end
  end
  redis.call('ZREM', KEYS[1], m)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, nxt[2] or '-1'}`);

/**
 * Claims entries of a partition for its owner, only while it owns the partition's lease (same member and fencing
 * token, not expired): a claim that reaches Redis late (queued while disconnected, resent after a reconnect) must not
 * take entries from the member that owns the partition by then.
 * KEYS: partition stream, leases hash. ARGV: group, member, partition, token, min idle ms, entry ids...
 * Returns the claimed entries, or nil when the lease is not this member's.
 */
export const CLAIM_SCRIPT: LuaScript = new LuaScript(`${NOW}
local lease = redis.call('HGET', KEYS[2], ARGV[3])
local mine = ARGV[2] .. '|' .. ARGV[4] .. '|'
if not lease or string.sub(lease, 1, #mine) ~= mine or tonumber(string.sub(lease, #mine + 1)) <= now then
  return false
end
return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[5], unpack(ARGV, 6))`);

/** Lua: whether entry `id` of stream `key` is pending in `group` for `consumer`. */
const PENDING_FOR = `local function pending_for(key, group, id, consumer)
  local row = redis.call('XPENDING', key, group, id, id, 1)[1]
  return row ~= nil and row[2] == consumer
end`;

/**
 * Acks an entry and schedules its retry for one group, atomically, if the entry is still pending for this consumer
 * (after a lease loss the next owner may have claimed it: then it is the next owner's to handle).
 * KEYS: partition stream, delayed zset. ARGV: group, entry id, due score, delayed member, consumer.
 * Returns 1 when scheduled, 0 when the entry was no longer this consumer's.
 */
export const NACK_DELAY_SCRIPT: LuaScript = new LuaScript(`${PENDING_FOR}
if not pending_for(KEYS[1], ARGV[1], ARGV[2], ARGV[5]) then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1`);

/**
 * Sets the delivery count of entries this consumer still holds (\`XCLAIM ... RETRYCOUNT ... JUSTID\` to itself), and
 * leaves alone those another consumer took meanwhile: a member whose lease passed must not pull entries back into its
 * own pending list, where the next owner would not look for them.
 * KEYS: partition stream. ARGV: group, consumer, then pairs of entry id and delivery count.
 * Returns how many entries were still this consumer's.
 */
export const GIVE_BACK_SCRIPT: LuaScript = new LuaScript(`${PENDING_FOR}
local n = 0
for i = 3, #ARGV, 2 do
  if pending_for(KEYS[1], ARGV[1], ARGV[i], ARGV[2]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'RETRYCOUNT', ARGV[i + 1], 'JUSTID')
    n = n + 1
  end
end
return n`);

/**
 * Trims a partition stream, never past an entry some group has not read or still has pending; also removes
 * group-less subscribers' groups whose member is gone and consumers idle for long with nothing pending.
 * KEYS: stream. ARGV: mode ('len' | 'age'), value, now (epoch ms), topic key base, ephemeral group prefix,
 * consumer idle limit (ms). Returns the number of entries trimmed.
 */
export const TRIM_SCRIPT: LuaScript = new LuaScript(`local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms) or 0, tonumber(seq) or 0
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm end
  return as < bs
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local safe = nil
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local name = info['name']
  local alive = true
  if string.sub(name, 1, #ARGV[5]) == ARGV[5] and redis.call('EXISTS', ARGV[4] .. ':m:' .. name) == 0 then
    redis.call('XGROUP', 'DESTROY', KEYS[1], name)
    alive = false
  end
  if alive then
    local keep = info['last-delivered-id']
    if tonumber(info['pending']) > 0 then keep = redis.call('XPENDING', KEYS[1], name)[2] end
    local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], name)
    for _, c in ipairs(consumers) do
      local ci = {}
      for i = 1, #c, 2 do ci[c[i]] = c[i + 1] end
      if tonumber(ci['pending']) == 0 and tonumber(ci['idle']) > tonumber(ARGV[6]) then
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], name, ci['name'])
      end
    end
    if safe == nil or less(keep, safe) then safe = keep end
  end
end
local cutoff
if ARGV[1] == 'age' then
  cutoff = tostring(tonumber(ARGV[3]) - tonumber(ARGV[2])) .. '-0'
else
  local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2])
  if excess <= 0 then return 0 end
  if excess > 10000 then excess = 10000 end
  local r = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess + 1)
  cutoff = r[#r][1]
end
if safe ~= nil and less(safe, cutoff) then cutoff = safe end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', cutoff)`);

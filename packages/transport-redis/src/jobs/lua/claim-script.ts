import { LuaScript } from '../../connection';
import { LIBRARY } from './library';

/**
 * Leases up to `max` claimable jobs to a worker, in the order the contract sets: a priority level by the policy
 * (strict, or smooth weighted round robin over the levels that have work), then within the level ungrouped jobs
 * and groups alternately, groups in round robin from `ready:<level>`, each group's oldest job first. Only groups in
 * `ready:<level>` are looked at, so the cost of a claim does not grow with the number of groups; an entry found
 * stale (no pending job left at the level, or a limit reached since) is dropped, and put back by whatever frees the
 * group again (a finished job, a new job, the end of its rate window).
 *
 * ARGV: base, worker, max, leaseTtlMs, groupConcurrency, rateMax (0: none), ratePerMs, mode ('strict' |
 * 'weighted'), weights of critical, high, normal, low, idleTtlMs (how long a short claim marks the queue as having
 * an idle worker). Returns `{ nextDueInMs or -1, job fields..., ... }`: how
 * long until the next scheduled job, retry or rate window falls due (by the server's clock), then one
 * `HGETALL` list per claimed job.
 */
export const CLAIM_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
local worker, max, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local concurrency, rateMax, ratePerMs = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local strict = ARGV[8] == 'strict'
local weights = { tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]) }

-- Group limits are the queue's; the last claim's are kept for the scripts that reopen groups.
local current = groupLimits()
if current.concurrency ~= concurrency or current.rateMax ~= rateMax or current.perMs ~= ratePerMs then
  redis.call('HSET', META, 'concurrency', concurrency, 'rateMax', rateMax, 'ratePerMs', ratePerMs)
  limits = { concurrency = concurrency, rateMax = rateMax, perMs = ratePerMs }
end
local carried = int(concurrency) .. ':' .. int(rateMax) .. ':' .. int(ratePerMs)
local tokens = promoteDue() + unthrottle()
expireCompleted()

local function nextDue()
  local first = math.huge
  for _, key in ipairs({ DUE, THROTTLED }) do
    local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if head[2] then first = math.min(first, tonumber(head[2])) end
  end
  if first == math.huge then return '-1' end
  return int(math.max(0, first - now))
end

-- A worker that gets less than it asked for waits next: from now on, scripts push wake tokens for it.
local function idle() redis.call('SET', IDLE, '1', 'PX', ARGV[13]) end
if redis.call('HEXISTS', META, 'paused') == 1 then
  idle()
  return { '-1' }
end

-- Claim order state (weighted round-robin credits, and per level whether groups or ungrouped jobs are next),
-- read once and written back once; per level, how many ungrouped jobs are left (read when first needed).
local ORDER = { 'credit:1', 'credit:2', 'credit:3', 'credit:4', 'groupsNext:1', 'groupsNext:2', 'groupsNext:3',
  'groupsNext:4' }
local stored = redis.call('HMGET', META, unpack(ORDER))
local credits, groupsNext, ungroupedLeft = {}, {}, {}
for i = 1, 4 do
  credits[i] = tonumber(stored[i] or '0')
  groupsNext[i] = stored[4 + i] == '1'
end

local function hasUngrouped(i)
  ungroupedLeft[i] = ungroupedLeft[i] or redis.call('ZCARD', lineKey(LEVELS[i], false))
  return ungroupedLeft[i] > 0
end

-- Whether a level's ready groups may hold a claimable job: read once, false once popping found none.
local readyLeft = {}
local function hasWork(i)
  if hasUngrouped(i) then return true end
  if readyLeft[i] == nil then readyLeft[i] = redis.call('EXISTS', readyKey(LEVELS[i])) == 1 end
  return readyLeft[i]
end

local open = { true, true, true, true }
local function pickLevel()
  local best, total = nil, 0
  for i = 1, 4 do
    if open[i] and hasWork(i) then
      if strict then return i end
      credits[i] = credits[i] + weights[i]
      total = total + weights[i]
      if best == nil or credits[i] > credits[best] then best = i end
    else
      open[i] = false
    end
  end
  if best ~= nil then credits[best] = credits[best] - total end
  return best
end

-- The first job of a line that is still pending (entries of jobs gone some other way are skipped).
local function popLine(line)
  while true do
    local id = redis.call('ZPOPMIN', line)[1]
    if not id or redis.call('HGET', jobKey(id), 'state') == 'pending' then return id end
  end
end

-- Counts a start in the group's rate window.
local function countStart(group)
  if rateMax == 0 then return end
  local start, count = windowOf(group)
  if not start or now >= start + ratePerMs then start, count = now, 0 end
  redis.call('SET', base .. ':rate:' .. group, int(start) .. ':' .. (count + 1), 'PX',
    int(math.max(1, start + ratePerMs - now)))
end

local function takeFromGroups(i)
  local level = LEVELS[i]
  local ready = readyKey(level)
  while true do
    local group = redis.call('ZPOPMIN', ready)[1]
    if not group then
      readyLeft[i] = false
      return nil
    end
    -- Counted as started first: a group in the round is open but for stale entries, whose start is undone.
    local active = redis.call('HINCRBY', GACTIVE, group, 1) - 1
    local line = lineKey(level, group)
    local id
    if groupOpen(group, active) then id = popLine(line) end
    if id then
      countStart(group)
      -- Back of the round while it has jobs here and may start another; otherwise out until reopened.
      if active + 1 < concurrency and redis.call('EXISTS', line) == 1 and groupOpen(group, active + 1) then
        markReady(level, group)
      end
      return id
    end
    if redis.call('HINCRBY', GACTIVE, group, -1) <= 0 then redis.call('HDEL', GACTIVE, group) end
  end
end

local function takeUngrouped(i)
  if not hasUngrouped(i) then return nil end
  local id = popLine(lineKey(LEVELS[i], false))
  if id then ungroupedLeft[i] = ungroupedLeft[i] - 1 else ungroupedLeft[i] = 0 end
  return id
end

local function takeFrom(i)
  local id
  if groupsNext[i] or not hasUngrouped(i) then
    id = takeFromGroups(i)
    if id then
      groupsNext[i] = false
      return id
    end
  end
  id = takeUngrouped(i)
  if id then groupsNext[i] = true end
  return id
end

local out = { '' }
local claimed = 0
while claimed < max do
  local i = pickLevel()
  if not i then break end
  local id = takeFrom(i)
  if id then
    local key = jobKey(id)
    local expiresAt = now + ttl
    redis.call('ZREM', AGE, id)
    redis.call('ZREM', stateKey('pending'), id)
    -- The entry number is unique among the queue's active jobs: it doubles as the lease token.
    local token = number(true)
    redis.call('ZADD', stateKey('active'), token, id)
    redis.call('HSET', key, 'state', 'active', 'token', token, 'worker', worker, 'expiresAt', expiresAt,
      'startedAt', now, 'limits', carried)
    redis.call('ZADD', LEASES, expiresAt, id)
    claimed = claimed + 1
    out[claimed + 1] = redis.call('HGETALL', key)
  else
    open[i] = false
  end
end
local order = {}
for i = 1, 4 do
  order[#order + 1] = ORDER[i]
  order[#order + 1] = credits[i]
  order[#order + 1] = ORDER[4 + i]
  order[#order + 1] = groupsNext[i] and '1' or '0'
end
redis.call('HSET', META, unpack(order))
out[1] = nextDue()
if claimed < max then idle() end
-- Jobs that fell due are this worker's unless it filled up: then other idle workers are woken for the rest.
if claimed == max then wake(tokens) end
return out`);

import { LuaScript } from '../../connection';
import { LIBRARY } from './library';

/** Arguments per job, in the order `encodeNewJob` writes them. */
export const JOB_ARGS = 14;

/**
 * Adds the job whose arguments start at `ARGV[a]`; returns its status, the id standing for it, and how many wake
 * tokens it earns. Arguments: id, type, payload?, priority, group?, runAt, enqueuedAt, maxAttempts, maxCrashes,
 * timeoutMs, backoff?, uniqueKey?, uniqueTtlMs, uniqueMode (`?`: '' or '=' .. value).
 */
const ADD_JOB: string = `
local function dueLater(runAt, enqueuedAt) return runAt > math.max(now, enqueuedAt) end

local function debounce(holder, payload, runAt, enqueuedAt)
  leave(holder)
  local key = jobKey(holder.id)
  if payload then redis.call('HSET', key, 'payload', payload) else redis.call('HDEL', key, 'payload') end
  redis.call('HSET', key, 'runAt', runAt)
  holder.runAt = runAt
  if dueLater(runAt, enqueuedAt) then
    if holder.state == 'retry' then return toDue(holder, 'retry') end
    return toDue(holder, 'scheduled')
  end
  toPending(holder, false)
  return 1
end

local function addJob(a)
  local id = ARGV[a]
  local existing = load(id)
  if existing then
    if not expired(existing) then return 'duplicate', id, 0 end
    leave(existing)
    drop(existing)
  end
  local payload = some(ARGV[a + 2])
  local runAt, enqueuedAt = tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local uniqueKey = some(ARGV[a + 11])
  if uniqueKey then
    local lock = base .. ':uniq:' .. uniqueKey
    local holderId = redis.call('GET', lock)
    local holder = holderId and load(holderId)
    if holder and holder.state ~= 'completed' and holder.state ~= 'dead' then
      if ARGV[a + 13] ~= 'debounce' then return 'deduplicated', holderId, 0 end
      if holder.state ~= 'active' then
        return 'debounced', holderId, debounce(holder, payload, runAt, enqueuedAt)
      end
    end
    redis.call('SET', lock, id, 'PX', ARGV[a + 12])
  end
  local key = jobKey(id)
  redis.call('HSET', key, 'id', id, 'type', ARGV[a + 1], 'priority', ARGV[a + 3], 'runAt', ARGV[a + 5],
    'enqueuedAt', ARGV[a + 6], 'maxAttempts', ARGV[a + 7], 'maxCrashes', ARGV[a + 8], 'timeoutMs', ARGV[a + 9],
    'failures', 0, 'crashes', 0)
  local group, backoff = some(ARGV[a + 4]), some(ARGV[a + 10])
  if payload then redis.call('HSET', key, 'payload', payload) end
  if group then redis.call('HSET', key, 'group', group) end
  if backoff then redis.call('HSET', key, 'backoff', backoff) end
  if uniqueKey then
    redis.call('HSET', key, 'uniqueKey', uniqueKey, 'uniqueTtlMs', ARGV[a + 12], 'uniqueMode', ARGV[a + 13])
  end
  local job = { id = id, priority = ARGV[a + 3], group = group, runAt = runAt, enqueuedAt = enqueuedAt,
    uniqueKey = uniqueKey }
  if dueLater(runAt, enqueuedAt) then return 'added', id, toDue(job, 'scheduled') end
  toPending(job, false)
  return 'added', id, 1
end
`;

/**
 * Adds a batch of jobs, each atomically and in order. ARGV: base, count, then {@link JOB_ARGS} arguments per job.
 * Returns `{ status, id, ... }` per job.
 */
export const ADD_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}${ADD_JOB}
local count = tonumber(ARGV[2])
local out = {}
local tokens = 0
for j = 0, count - 1 do
  local status, id, earned = addJob(3 + j * ${JOB_ARGS})
  out[#out + 1] = status
  out[#out + 1] = id
  tokens = tokens + earned
end
wake(tokens)
return out`);

/**
 * Adds the job of one schedule tick unless that tick or a later one of the schedule was enqueued already, and
 * records the tick. ARGV: base, schedule, at, then the job's {@link JOB_ARGS} arguments. Returns 1 when this call
 * added the job.
 */
export const TICK_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}${ADD_JOB}
local ticks = base .. ':ticks'
local last = redis.call('HGET', ticks, ARGV[2])
if last and tonumber(ARGV[3]) <= tonumber(last) then return 0 end
redis.call('HSET', ticks, ARGV[2], ARGV[3])
local status, _, earned = addJob(4)
wake(earned)
if status == 'added' then return 1 end
return 0`);

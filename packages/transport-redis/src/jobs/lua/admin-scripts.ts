import { LuaScript } from '../../connection';
import { LIBRARY } from './library';

/**
 * One job's fields (`HGETALL`), or an empty list when it is not retained. ARGV: base, id.
 */
export const GET_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
tidy()
local job = load(ARGV[2])
if not job or expired(job) then return {} end
return redis.call('HGETALL', jobKey(job.id))`);

/**
 * Cancels a job. ARGV: base, id. Returns `cancelled` (removed), `cancelling` (active: flagged for its worker),
 * `finished` (completed or dead: left) or `not-found`.
 */
export const CANCEL_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
tidy()
local job = load(ARGV[2])
if not job or expired(job) then return 'not-found' end
if job.state == 'completed' or job.state == 'dead' then return 'finished' end
if job.state == 'active' then
  redis.call('HSET', jobKey(job.id), 'cancel', '1')
  return 'cancelling'
end
leave(job)
drop(job)
return 'cancelled'`);

/**
 * Dead jobs back to pending, with failures and crashes reset and runAt now. ARGV: base, limit, then ids; with no
 * ids, the first `limit` dead jobs. Returns how many it moved.
 */
export const RETRY_DEAD_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
local ids = { unpack(ARGV, 3) }
if #ids == 0 then ids = redis.call('ZRANGE', stateKey('dead'), 0, tonumber(ARGV[2]) - 1) end
local moved = 0
for _, id in ipairs(ids) do
  local job = load(id)
  if job and job.state == 'dead' then
    leave(job)
    local key = jobKey(id)
    redis.call('HSET', key, 'failures', 0, 'crashes', 0, 'runAt', now)
    redis.call('HDEL', key, 'deadReason', 'finishedAt')
    job.runAt = now
    toPending(job, false)
    moved = moved + 1
  end
end
wake(moved)
return moved`);

/**
 * Removes completed or dead jobs for good. ARGV: base, state, limit, then ids; with no ids, the first `limit` jobs
 * of the state. Returns how many it removed.
 */
export const PURGE_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
local state = ARGV[2]
local ids = { unpack(ARGV, 4) }
if #ids == 0 then ids = redis.call('ZRANGE', stateKey(state), 0, tonumber(ARGV[3]) - 1) end
local removed = 0
for _, id in ipairs(ids) do
  local job = load(id)
  if job and job.state == state then
    leave(job)
    drop(job)
    removed = removed + 1
  end
end
return removed`);

/** Pauses (ARGV[2] = '1') or resumes ('0') a queue; resuming wakes idle workers. ARGV: base, flag. */
export const PAUSE_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
if ARGV[2] == '1' then
  redis.call('HSET', META, 'paused', '1')
else
  redis.call('HDEL', META, 'paused')
  wake(redis.call('ZCARD', stateKey('pending')))
end
return 1`);

/**
 * Counts per state. ARGV: base, then the states in order. Returns `{ paused, count per state..., oldest pending
 * (or '') }`.
 */
export const COUNTS_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
tidy()
local out = { redis.call('HEXISTS', META, 'paused') }
for i = 2, #ARGV do out[#out + 1] = redis.call('ZCARD', stateKey(ARGV[i])) end
local oldest = redis.call('ZRANGE', AGE, 0, 0, 'WITHSCORES')
out[#out + 1] = oldest[2] or ''
return out`);

/**
 * A page of jobs in one state, in the order they entered it. ARGV: base, state, limit, cursor score ('' for the
 * first page), cursor id. The page starts after the cursor's job, or (when that job left the state since) after
 * its place. Returns `{ more ('1' | '0'), id, score, fields, ... }` (fields empty for a job
 * whose hash is gone).
 */
export const LIST_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
tidy()
local key, limit = stateKey(ARGV[2]), tonumber(ARGV[3])
local start = 0
if ARGV[4] ~= '' then
  local rank = redis.call('ZRANK', key, ARGV[5])
  if rank then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[4])
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, ARGV[4], ARGV[4])) do
      if id <= ARGV[5] then start = start + 1 end
    end
  end
end
local entries = redis.call('ZRANGE', key, start, start + limit - 1, 'WITHSCORES')
local out = { '0' }
if redis.call('ZCARD', key) > start + limit then out[1] = '1' end
for i = 1, #entries, 2 do
  out[#out + 1] = entries[i]
  out[#out + 1] = entries[i + 1]
  out[#out + 1] = redis.call('HGETALL', jobKey(entries[i]))
end
return out`);

import { LuaScript } from '../../connection';
import { LIBRARY } from './library';

/**
 * The job leased with `ARGV[2]` = id and `ARGV[3]` = token, or a return of 0 when the token is no longer the
 * job's: a worker that lost its lease changes nothing.
 */
const LEASED = `
local job = load(ARGV[2])
if not job or job.state ~= 'active' or job.token ~= ARGV[3] then return 0 end
local key = jobKey(job.id)
`;

/**
 * Renews leases. ARGV: base, leaseTtlMs, then id, token per lease. Returns per lease `ok`, `lost` or `cancelled`.
 */
export const EXTEND_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
local expiresAt = now + tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local values = redis.call('HMGET', jobKey(id), 'state', 'token', 'cancel')
  if values[1] == 'active' and values[2] == ARGV[i + 1] then
    redis.call('HSET', jobKey(id), 'expiresAt', expiresAt)
    redis.call('ZADD', LEASES, expiresAt, id)
    if values[3] then out[#out + 1] = 'cancelled' else out[#out + 1] = 'ok' end
  else
    out[#out + 1] = 'lost'
  end
end
return out`);

/** Stores a progress value. ARGV: base, id, token, progress JSON?. Returns 1, or 0 for a lost lease. */
export const PROGRESS_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}${LEASED}
local value = some(ARGV[4])
if value then redis.call('HSET', key, 'progress', value) else redis.call('HDEL', key, 'progress') end
return 1`);

/**
 * Completes a job, kept with its result for retainMs (0: removed at once). ARGV: base, id, token, result JSON?,
 * retainMs. Returns 1, or 0 for a lost lease.
 */
export const COMPLETE_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}${LEASED}
local tokens = endAttempt(job)
local result, retainMs = some(ARGV[4]), tonumber(ARGV[5])
if retainMs <= 0 then
  drop(job)
else
  if result then redis.call('HSET', key, 'result', result) else redis.call('HDEL', key, 'result') end
  redis.call('HSET', key, 'expireAt', now + retainMs)
  finish(job, 'completed')
  redis.call('ZADD', EXPIRING, now + retainMs, job.id)
end
wake(tokens)
return 1`);

/**
 * Records a failed attempt and moves the job on. ARGV: base, id, token, kind ('error' | 'timeout'), error JSON,
 * outcome ('retry' | 'dead' | 'drop'), runAt (retry) or reason (dead). Returns 1, or 0 for a lost lease.
 */
export const FAIL_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}${LEASED}
local tokens = endAttempt(job)
local failures = redis.call('HINCRBY', key, 'failures', 1)
recordError(job.id, '{"attempt":' .. failures .. ',"kind":"' .. ARGV[4] .. '","error":' .. ARGV[5] .. ',"at":' .. int(now) .. '}')
local outcome = ARGV[6]
if outcome == 'drop' then
  drop(job)
elseif outcome == 'dead' then
  redis.call('HSET', key, 'deadReason', ARGV[7])
  finish(job, 'dead')
else
  redis.call('HSET', key, 'runAt', ARGV[7])
  job.runAt = ARGV[7]
  if tonumber(ARGV[7]) > now then
    tokens = tokens + toDue(job, 'retry')
  else
    toPending(job, false)
    tokens = tokens + 1
  end
end
wake(tokens)
return 1`);

/**
 * Hands an active job back to pending, ahead of its line, counting nothing. ARGV: base, id, token. Returns 1, or 0
 * for a lost lease.
 */
export const RELEASE_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}${LEASED}
endAttempt(job)
toPending(job, true)
wake(1)
return 1`);

/**
 * Finds active jobs whose lease expired: each counts a crash (recorded in its errors) and goes back to pending
 * ahead of its line, or dies with CRASH_LIMIT at its maxCrashes. Also removes completed jobs past retention.
 * ARGV: base, most jobs to recover. Returns how many it recovered.
 */
export const RECOVER_SCRIPT: LuaScript = new LuaScript(`${LIBRARY}
local ids = redis.call('ZRANGEBYSCORE', LEASES, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local recovered, tokens = 0, 0
for _, id in ipairs(ids) do
  local job = load(id)
  if job and job.state == 'active' then
    tokens = tokens + endAttempt(job)
    local key = jobKey(id)
    local crashes = redis.call('HINCRBY', key, 'crashes', 1)
    local attempt = tonumber(job.failures or '0') + 1
    local maxCrashes = tonumber(job.maxCrashes or '1')
    recordError(id, cjson.encode({ attempt = attempt, kind = 'crash', at = now, error = {
      name = 'LeaseExpiredError',
      message = 'worker ' .. (job.worker or '?') .. ' stopped renewing the lease of attempt ' .. attempt ..
        ' (it crashed or hung); crash ' .. crashes .. ' of ' .. maxCrashes .. ' allowed' } }))
    if crashes >= maxCrashes then
      redis.call('HSET', key, 'deadReason', 'CRASH_LIMIT')
      finish(job, 'dead')
    else
      toPending(job, true)
      tokens = tokens + 1
    end
    recovered = recovered + 1
  else
    redis.call('ZREM', LEASES, id)
  end
end
expireCompleted()
wake(tokens)
return recovered`);

import { JOB_LIMITS } from '../options';

/**
 * The Lua every job script starts with: the queue's key names, the server clock, and the state moves shared by the
 * scripts. Every script is called with `KEYS[1]` = the queue's `meta` hash (which routes it to the queue's Cluster
 * slot) and `ARGV[1]` = the queue's key base (`<prefix>:j:{<queue>}`).
 *
 * Layout of one queue (all keys under the base):
 * - `job:<id>`: hash of one job (fields as {@link JobRecord}, `errors` as newline-separated JSON entries).
 * - `s:<state>`: zset of the job ids in a state, scored by the order they entered it (`list`, `counts`).
 * - `q:<level>` / `gq:<level>:<group>`: zsets of pending ungrouped / grouped jobs of a priority level, scored by
 *   their place in line (`seq`; negative for jobs put back ahead of the others).
 * - `ready:<level>`: zset of the groups that have pending jobs at the level and may start one, scored by turn:
 *   round robin is "pop the lowest, push it back with a new turn". Claims never look at any other group.
 * - `gactive`: hash group → active jobs; `rate:<group>`: `start:count` of its rate window (expires with it);
 *   `throttled`: zset of groups out of starts until their window ends.
 * - `due`: zset of scheduled and retry jobs by `runAt`; `leases`: zset of active jobs by lease expiry;
 *   `age`: zset of pending jobs by `max(enqueuedAt, runAt)` (queue latency); `expiring`: zset of completed jobs
 *   by end of retention.
 * - `uniq:<key>`: holder of a unique key (with its TTL); `ticks`: hash schedule → latest tick; `wake`: the list
 *   idle workers block on.
 * - `meta`: hash of counters (`seq`, `front`, `entered`), the limits of the last claim
 *   (`concurrency`, `rateMax`, `ratePerMs`), the `paused` flag, and the claim order state (`credit:<n>`,
 *   `groupsNext:<n>`).
 */
export const LIBRARY: string = `
local base = ARGV[1]
local META = KEYS[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local LEVELS = { 'critical', 'high', 'normal', 'low' }
local GACTIVE = base .. ':gactive'
local THROTTLED = base .. ':throttled'
local DUE = base .. ':due'
local LEASES = base .. ':leases'
local AGE = base .. ':age'
local EXPIRING = base .. ':expiring'
local WAKE = base .. ':wake'
local IDLE = base .. ':idle'
local FIELDS = { 'state', 'priority', 'group', 'runAt', 'enqueuedAt', 'uniqueKey', 'token', 'cancel',
  'failures', 'crashes', 'maxCrashes', 'worker', 'expireAt', 'limits' }

local function jobKey(id) return base .. ':job:' .. id end
local function stateKey(state) return base .. ':s:' .. state end
local function lineKey(level, group)
  if group then return base .. ':gq:' .. level .. ':' .. group end
  return base .. ':q:' .. level
end
local function readyKey(level) return base .. ':ready:' .. level end
local function int(value) return string.format('%.0f', value) end
-- Optional arguments arrive as '' (absent) or '=' .. value.
local function some(value) if value == '' then return false end return string.sub(value, 2) end

-- The fields of a job the scripts decide on, or nil when there is no such job.
local function load(id)
  local values = redis.call('HMGET', jobKey(id), unpack(FIELDS))
  if not values[1] then return nil end
  local job = { id = id }
  for i, name in ipairs(FIELDS) do job[name] = values[i] end
  return job
end

local function expired(job)
  return job.state == 'completed' and tonumber(job.expireAt or '0') <= now
end

-- Pushes up to count tokens on the wake list, each letting one blocked worker claim; nothing while no worker of the
-- queue is idle (IDLE is set by a claim that came back short and by every blocking wait, for longer than it blocks).
local function wake(count)
  if count <= 0 or redis.call('EXISTS', IDLE) == 0 then return end
  count = math.min(count, ${JOB_LIMITS.wakeTokens} - redis.call('LLEN', WAKE))
  if count <= 0 then return end
  local tokens = {}
  for i = 1, count do tokens[i] = '1' end
  redis.call('RPUSH', WAKE, unpack(tokens))
  redis.call('PEXPIRE', WAKE, 60000)
end

-- The start and count of a group's rate window, if one is open.
local function windowOf(group)
  local value = redis.call('GET', base .. ':rate:' .. group)
  if not value then return nil, 0 end
  local sep = string.find(value, ':', 1, true)
  return tonumber(string.sub(value, 1, sep - 1)), tonumber(string.sub(value, sep + 1))
end

-- The group limits of the last claim (the claim script sets them first): concurrency (0: none known yet) and rate.
-- An active job carries those of the claim that leased it ('concurrency:rateMax:perMs'), which saves the read.
local limits
local function groupLimits(carried)
  if not limits and carried then
    local concurrency, rateMax, perMs = string.match(carried, '^(%d+):(%d+):(%d+)$')
    limits = { concurrency = tonumber(concurrency), rateMax = tonumber(rateMax), perMs = tonumber(perMs) }
  end
  if not limits then
    local values = redis.call('HMGET', META, 'concurrency', 'rateMax', 'ratePerMs')
    limits = { concurrency = tonumber(values[1] or '0'), rateMax = tonumber(values[2] or '0'),
      perMs = tonumber(values[3] or '0') }
  end
  return limits
end

-- Whether a group may start a job now (active: its active count, when the caller knows it). A group out of starts
-- for its rate window goes to THROTTLED until the window ends.
local function groupOpen(group, active)
  local config = groupLimits()
  if config.concurrency > 0 then
    active = active or tonumber(redis.call('HGET', GACTIVE, group) or '0')
    if active >= config.concurrency then return false end
  end
  if config.rateMax > 0 then
    local start, count = windowOf(group)
    if start and now < start + config.perMs and count >= config.rateMax then
      redis.call('ZADD', THROTTLED, start + config.perMs, group)
      return false
    end
    redis.call('ZREM', THROTTLED, group)
  end
  return true
end

-- One counter numbers both the entries of the state indexes (s:<state>) and the turns of groups (ready:<level>).
-- A number drawn for one may serve once for the other too, as they score different sorted sets: each kind still
-- gets increasing numbers, and a transition that does both (a job put in line, a finished job reopening its
-- group) draws once.
local drawn, usedForState, usedForTurn
local function number(forState)
  if not drawn or (forState and usedForState) or (not forState and usedForTurn) then
    drawn, usedForState, usedForTurn = redis.call('HINCRBY', META, 'entered', 1), false, false
  end
  if forState then usedForState = true else usedForTurn = true end
  return drawn
end

local function markReady(level, group)
  redis.call('ZADD', readyKey(level), 'NX', number(false), group)
end

-- Puts a group back in turn at every level where it has pending jobs, if it may start one; 1 when it did. Its jobs
-- are usually all at one level (level: that one's, when known), so the common case is two EXISTS.
local function reopen(group, active, level)
  if not groupOpen(group, active) then return 0 end
  local lines = {}
  for i, each in ipairs(LEVELS) do lines[i] = lineKey(each, group) end
  local remaining = redis.call('EXISTS', unpack(lines))
  if remaining == 0 then return 0 end
  if level and redis.call('EXISTS', lineKey(level, group)) == 1 then
    markReady(level, group)
    remaining = remaining - 1
  end
  for i, each in ipairs(LEVELS) do
    if remaining == 0 then break end
    if each ~= level and redis.call('EXISTS', lines[i]) == 1 then
      markReady(each, group)
      remaining = remaining - 1
    end
  end
  return 1
end

local function enterState(id, state)
  redis.call('HSET', jobKey(id), 'state', state)
  redis.call('ZADD', stateKey(state), number(true), id)
end

-- Takes a job out of the indexes of its state (the job hash stays).
local function leave(job)
  local state = job.state
  if state == 'pending' then
    redis.call('ZREM', lineKey(job.priority, job.group), job.id)
    redis.call('ZREM', AGE, job.id)
  elseif state == 'scheduled' or state == 'retry' then
    redis.call('ZREM', DUE, job.id)
  elseif state == 'active' then
    redis.call('ZREM', LEASES, job.id)
  elseif state == 'completed' then
    redis.call('ZREM', EXPIRING, job.id)
  end
  redis.call('ZREM', stateKey(state), job.id)
end

-- Puts a job in line: at the back, or (front) ahead of every other job of its line.
local function toPending(job, front)
  local seq
  if front then seq = -redis.call('HINCRBY', META, 'front', 1) else seq = redis.call('HINCRBY', META, 'seq', 1) end
  redis.call('ZADD', lineKey(job.priority, job.group), seq, job.id)
  redis.call('ZADD', AGE, math.max(tonumber(job.runAt), tonumber(job.enqueuedAt)), job.id)
  enterState(job.id, 'pending')
  job.state = 'pending'
  if job.group and groupOpen(job.group) then markReady(job.priority, job.group) end
end

-- Schedules a job (state 'scheduled' or 'retry') for its runAt; 1 when it is now the next one due, so that
-- waiting workers learn the new due time.
local function toDue(job, state)
  redis.call('ZADD', DUE, tonumber(job.runAt), job.id)
  enterState(job.id, state)
  job.state = state
  local first = redis.call('ZRANGE', DUE, 0, 0)[1]
  if first == job.id then return 1 end
  return 0
end

local function releaseUnique(job)
  if not job.uniqueKey then return end
  local lock = base .. ':uniq:' .. job.uniqueKey
  if redis.call('GET', lock) == job.id then redis.call('DEL', lock) end
end

local function finish(job, state)
  redis.call('HSET', jobKey(job.id), 'finishedAt', now)
  releaseUnique(job)
  enterState(job.id, state)
  job.state = state
end

-- Removes a job that already left its indexes.
local function drop(job)
  releaseUnique(job)
  redis.call('DEL', jobKey(job.id))
end

-- Ends an active job's attempt: lease and cancel flag gone, group slot freed; 1 when its group may start another.
local function endAttempt(job)
  leave(job)
  redis.call('HDEL', jobKey(job.id), 'token', 'worker', 'expiresAt', 'cancel', 'limits')
  if not job.group then return 0 end
  groupLimits(job.limits)
  local active = math.max(0, redis.call('HINCRBY', GACTIVE, job.group, -1))
  local ready = reopen(job.group, active, job.priority)
  -- A count of 0 stays while the group is about to start again, and goes with its last job.
  if active == 0 and ready == 0 then redis.call('HDEL', GACTIVE, job.group) end
  return ready
end

-- Appends an entry to a job's error history, keeping the last 25.
local function recordError(id, entry)
  local key = jobKey(id)
  local errors = redis.call('HGET', key, 'errors')
  if errors and errors ~= '' then
    errors = errors .. '\\n' .. entry
    local count = 1
    for _ in string.gmatch(errors, '\\n') do count = count + 1 end
    while count > 25 do
      errors = string.sub(errors, string.find(errors, '\\n', 1, true) + 1)
      count = count - 1
    end
  else
    errors = entry
  end
  redis.call('HSET', key, 'errors', errors)
end

-- Due scheduled and retry jobs become pending (in the order they fall due); returns how many.
local function promoteDue()
  local ids = redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', 0, ${JOB_LIMITS.promoteBatch})
  local promoted = 0
  for _, id in ipairs(ids) do
    local job = load(id)
    if job and (job.state == 'scheduled' or job.state == 'retry') then
      leave(job)
      toPending(job, false)
      promoted = promoted + 1
    else
      redis.call('ZREM', DUE, id)
    end
  end
  return promoted
end

-- Removes completed jobs whose retention ended.
local function expireCompleted()
  local ids = redis.call('ZRANGEBYSCORE', EXPIRING, '-inf', now, 'LIMIT', 0, ${JOB_LIMITS.expireBatch})
  for _, id in ipairs(ids) do
    local job = load(id)
    if job and job.state == 'completed' then
      leave(job)
      drop(job)
    else
      redis.call('ZREM', EXPIRING, id)
    end
  end
end

-- Lets groups whose rate window ended take turns again.
local function unthrottle()
  local groups = redis.call('ZRANGEBYSCORE', THROTTLED, '-inf', now, 'LIMIT', 0, ${JOB_LIMITS.promoteBatch})
  local ready = 0
  for _, group in ipairs(groups) do
    redis.call('ZREM', THROTTLED, group)
    ready = ready + reopen(group)
  end
  return ready
end

-- Housekeeping every reading script does first, as the memory backend does: due jobs become pending (waking
-- workers for them) and expired completed jobs go.
local function tidy()
  wake(promoteDue())
  expireCompleted()
end
`;

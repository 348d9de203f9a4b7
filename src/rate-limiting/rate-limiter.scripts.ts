/**
 * Lua scripts of the rate limiter; rate-limiter.scripts.spec.ts runs them in Redis on a clock it sets and is
 * their executable description (including a fast-check property test).
 *
 * Algorithm: a sliding-window log per key. The log is the list of grant timestamps (µs, newest
 * first, at most `max` entries). A request of cost `c` is allowed when fewer than `max - c + 1`
 * grants lie inside the window `(now - window, now]`, i.e. when the log entry at index `max - c`
 * (0-based, newest first) is missing or already outside the window. That entry also tells the exact
 * refusal wait: it leaves the window at `entry + window`. So at most `max` grants ever fall in any
 * half-open interval of length `window`, bursts up to `max` are allowed, and there is no 2x burst at
 * the edge of a fixed window. Why not GCRA: see docs/RATE_LIMITING.md.
 *
 * Timestamps are microseconds of the Redis clock (`TIME`), stored as integer strings: about 1.8e15,
 * exact in a Lua double (< 2^53). `string.format('%.0f')` is used because `tostring` would print
 * them in exponent form with only 14 significant digits.
 */

/** A limit or cost as the scripts expect it: a finite positive integer (anything else becomes 1). */
export function positiveInt(n: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
}

/**
 * KEYS[1] account log (LIST), KEYS[2] tenant log (LIST), KEYS[3] account pushback (STRING, µs).
 * ARGV: accountMax, accountWindowMs, tenantMax, tenantWindowMs, cost (all positive integers), and an
 * optional sixth, 'peek': only say whether a grant would be given now, charge nothing.
 * Returns {1, 0, '', stamp} when both logs were charged (stamp: the grant's timestamp as logged, for
 * RELEASE_LUA; '' for a peek), {0, waitMs, scope} when neither was.
 */
export const ACQUIRE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local accountMax = tonumber(ARGV[1])
local accountWindowMs = tonumber(ARGV[2])
local tenantMax = tonumber(ARGV[3])
local tenantWindowMs = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function newest(key)
  local v = redis.call('LINDEX', key, 0)
  if v then return tonumber(v) end
  return nil
end
local na = newest(KEYS[1])
if na and na > now then now = na end
local nt = newest(KEYS[2])
if nt and nt > now then now = nt end

local function keyWait(key, max, windowMs)
  local c = math.min(cost, max)
  local v = redis.call('LINDEX', key, max - c)
  if not v then return 0 end
  local w = tonumber(v) + windowMs * 1000 - now
  if w > 0 then return w end
  return 0
end

local pushWait = 0
local pb = redis.call('GET', KEYS[3])
if pb and tonumber(pb) and tonumber(pb) > now then pushWait = tonumber(pb) - now end
local accountWait = keyWait(KEYS[1], accountMax, accountWindowMs)
local tenantWait = keyWait(KEYS[2], tenantMax, tenantWindowMs)

local wait, scope = pushWait, 'pushback'
if accountWait > wait then wait, scope = accountWait, 'account' end
if tenantWait > wait then wait, scope = tenantWait, 'tenant' end
if wait > 0 then return {0, math.ceil(wait / 1000), scope} end
if ARGV[6] == 'peek' then return {1, 0, '', ''} end

local stamp = string.format('%.0f', now)
local function charge(key, max, windowMs)
  local c = math.min(cost, max)
  local chunk = {}
  for i = 1, c do
    chunk[#chunk + 1] = stamp
    if #chunk == 1000 or i == c then
      redis.call('LPUSH', key, unpack(chunk))
      chunk = {}
    end
  end
  redis.call('LTRIM', key, 0, max - 1)
  redis.call('PEXPIRE', key, windowMs + 1)
end
charge(KEYS[1], accountMax, accountWindowMs)
charge(KEYS[2], tenantMax, tenantWindowMs)
return {1, 0, '', stamp}
`;

/**
 * KEYS[1] account log (LIST), KEYS[2] tenant log (LIST). ARGV: stamp (as ACQUIRE_LUA returned it),
 * accountMax, tenantMax, cost. Gives back a grant that was not used: removes `cost` entries with that
 * stamp from each log (as many as ACQUIRE_LUA pushed; fewer if they have been trimmed away already).
 * Returns the number of entries removed from the account log.
 */
export const RELEASE_LUA = `
local stamp = ARGV[1]
local cost = tonumber(ARGV[4])
local removed = redis.call('LREM', KEYS[1], math.min(cost, tonumber(ARGV[2])), stamp)
redis.call('LREM', KEYS[2], math.min(cost, tonumber(ARGV[3])), stamp)
return removed
`;

/**
 * KEYS[1] account pushback (STRING, µs). ARGV[1]: block for this many ms (positive integer).
 * Keeps the later of the existing and the new "blocked until"; the key expires when the block ends.
 * Returns the remaining block in ms.
 */
export const PUSHBACK_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilUs = now + tonumber(ARGV[1]) * 1000
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if cur and cur > untilUs then untilUs = cur end
local ttl = math.ceil((untilUs - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', untilUs), 'PX', ttl)
return ttl
`;

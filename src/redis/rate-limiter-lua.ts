/*
 * The shared rate limiter's Lua scripts (src/redis/rate-limiter.ts): each runs atomically in
 * Redis, so every worker process sees one schedule, one pause and one learned rate.
 */

// KEYS[1] tat, KEYS[2] pause-until, KEYS[3] (auto mode) the shared rate, KEYS[4] (auto mode) the
// permit counts. ARGV[1] interval ms, ARGV[2] tolerance ms, ARGV[3] (auto mode) the tolerance in ms
// (as AutoRateLimiter's), ARGV[4] (auto mode) the catch-up ms, ARGV[5] (auto mode) the share of the
// shared rate to pace this permit at (below 1 while the asking process warms up: WarmStart in src/leeloo/rate-limit.ts).
// Returns {kind, ms, rate} as strings (Lua numbers would be truncated to integers):
//   kind 0: a permit is reserved, send after `ms`; kind 1: paused, ask again after `ms`.
//
// Catch-up (auto mode): plain GCRA gives a slot away when its permit is asked for after it. Under
// load that is often (a timer woken 40-60 ms late, a Redis round trip behind a busy event loop):
// measured in bench/writes.ts, 40-50 such slots per 1,000 writes lost 1.7-2.5 s of a 23 s run, a
// tenth of the budget. So a late ask may take a slot up to the catch-up ms in the past. What makes
// that safe for every process together is the window check on every permit: the permits released
// in the second (and 10 ms) before this one's release stay within what plain GCRA allows in a
// second, 1 + (1000 + tolerance) / interval. Releases are monotone (a catch-up only happens when
// no permit is reserved ahead), so checking the window that ends at each release bounds them all.
// The caller passes a catch-up of 0 when nobody was waiting (after idle or a pause): see reserve().
export const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local rate = ''
if KEYS[3] then
  rate = redis.call('GET', KEYS[3]) or ''
  local r = tonumber(rate)
  if r and r > 0 then
    interval = 1000 / (r * (tonumber(ARGV[5]) or 1))
    tolerance = math.min(tonumber(ARGV[3]), 2 * interval)
  end
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {'1', tostring(paused - now), rate} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
local release = math.max(now, start - tolerance)
if KEYS[4] then
  local cap = math.floor(1 + (1000 + tolerance) / interval)
  local function window(at)
    local n = 0
    local first = math.floor((at - 1000) / 10)
    local oldest = nil
    for slot = first, math.floor(at / 10) do
      local c = tonumber(redis.call('HGET', KEYS[4], slot) or '0')
      if c > 0 and not oldest then oldest = slot end
      n = n + c
    end
    return n, oldest
  end
  local catchUp = math.min(tonumber(ARGV[4]), 3 * interval)
  if tat < now - tolerance and catchUp > 0 then
    start = math.max(tat, now - catchUp)
    release = now
  end
  for _ = 1, 8 do
    local n, oldest = window(release)
    if n + 1 <= cap or not oldest then break end
    -- Full: wait for the oldest permit counted to leave the window, and pace the next from there.
    release = (oldest + 1) * 10 + 1000
    start = math.max(start, release + tolerance)
  end
  -- Permits per 10 ms of release time: the window above, and what every process sent before a 429.
  local slot = math.floor(release / 10)
  redis.call('HINCRBY', KEYS[4], slot, 1)
  redis.call('HDEL', KEYS[4], slot - 300)
  redis.call('PEXPIRE', KEYS[4], 5000)
end
local newTat = start + interval
redis.call('SET', KEYS[1], tostring(newTat), 'PX', math.ceil(newTat - now + tolerance) + 1000)
return {'0', tostring(release - now), rate}
`;

// KEYS[1] the permit counts of RESERVE. ARGV[1] how long ago the refused request was sent (ms).
// Returns the permits released by all processes in the second before it, as a string.
export const SENT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local last = math.floor((now - tonumber(ARGV[1])) / 10) - 1
local n = 0
for slot = last - 99, last do n = n + tonumber(redis.call('HGET', KEYS[1], slot) or '0') end
return tostring(n)
`;

// KEYS[1] AIMD state (JSON), KEYS[2] rate. ARGV[1] initial JSON, ARGV[2] its rate, ARGV[3] ttl ms.
// The first process to arrive seeds the shared state; later ones (and restarts) adopt it.
export const INIT = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return ARGV[1]
`;

// KEYS as INIT. ARGV[1] the JSON the change was computed from, ARGV[2] new JSON, ARGV[3] its
// rate, ARGV[4] ttl ms. Returns {1, new} when applied, {0, current} when another process changed
// it first (or it vanished: then it is written, a Redis flush must not stop learning).
export const UPDATE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return {'0', cur} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return {'1', ARGV[2]}
`;

// KEYS[1] tat, KEYS[2] pause-until. ARGV[1] pause ms, ARGV[2] tolerance ms.
// Pushes the pause end and the next permit past it, so the restart is paced, not a burst.
export const PENALIZE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local untilMs = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if untilMs > paused then
  redis.call('SET', KEYS[2], tostring(untilMs), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local newTat = math.max(tat, untilMs + tonumber(ARGV[2]))
redis.call('SET', KEYS[1], tostring(newTat), 'PX', math.ceil(newTat - now) + 1000)
return 1
`;

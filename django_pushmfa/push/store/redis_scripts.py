"""The Lua scripts of the Redis challenge store. Each state change is one script: atomic on the server.

Layout (every name built with the cache's ``make_key``, so ``KEY_PREFIX`` isolates sites and tests):

- challenge hash: ``d`` (JSON of what never changes), ``s`` status, ``e`` expires_at, ``r``
  responded_at, ``v`` answering device id. TTL: window + grace; an answer extends it to at least
  ``grace`` from then (a TTL only ever grows).
- user pointer: ``"<challenge id> <challenge key>"`` of the user's outstanding challenge, same TTL.
- counters (rate limits, denial and report runs): INCR with a TTL set on the first hit (fixed window).
- suspension flag: value = unix time it started, TTL = the suspension.

Times in challenge records are the app servers' clocks (unix seconds); TTLs are always relative, so
the Redis server's clock never mixes with them.
"""
from __future__ import annotations

# KEYS: 1 new challenge, 2 user pointer, 3 suspension flag, 4.. rate-limit counters
# ARGV: 1 now, 2 new id, 3 static JSON, 4 expires_at, 5 ttl ms, 6 pointer value, 7 channel,
#       8 check suspension ("1"/"0"), 9 number of limits, then per limit: limit, window s, scope
CREATE = """
if ARGV[8] == '1' then
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl > 0 then return {'suspended', ttl} end
end
local n = tonumber(ARGV[9])
for i = 1, n do
  local key = KEYS[3 + i]
  local base = 9 + (i - 1) * 3
  local limit = tonumber(ARGV[base + 1])
  local window = tonumber(ARGV[base + 2]) * 1000
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  if count > limit then return {'limited', ARGV[base + 3], count, ttl, limit} end
end
local result = {'ok'}
local previous = redis.call('GET', KEYS[2])
if previous then
  local sep = string.find(previous, ' ', 1, true)
  local old_id = string.sub(previous, 1, sep - 1)
  local old_key = string.sub(previous, sep + 1)
  if old_id ~= ARGV[2] and redis.call('HGET', old_key, 's') == 'pending' then
    redis.call('HSET', old_key, 's', 'expired')
    redis.call('PUBLISH', ARGV[7], old_id .. '|expired||')
    result = {'ok', old_id, redis.call('HGETALL', old_key)}
  end
end
redis.call('HSET', KEYS[1], 'd', ARGV[3], 's', 'pending', 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[5])
return result
"""

# A move's penalty: count a denial or report run, maybe start a suspension; or end the run of
# denials (an approval). Locals set before it: now, penalty ('' | 'denial' | 'report'), reset
# ('1'/'0'), den_key, rep_key, sus_key, den_limit, rep_limit, window (s), seconds; sets ``suspended``
# to the suspension's seconds when this call started one.
_PENALTY = """
if reset == '1' then redis.call('DEL', den_key) end
local run, limit = nil, 0
if penalty == 'denial' then
  run, limit = den_key, den_limit
elseif penalty == 'report' then
  run, limit = rep_key, rep_limit
end
if run then
  local count = redis.call('INCR', run)
  if redis.call('PTTL', run) < 0 then redis.call('PEXPIRE', run, window * 1000) end
  if limit > 0 and count >= limit then
    redis.call('DEL', den_key, rep_key)
    if redis.call('SET', sus_key, now, 'PX', seconds * 1000, 'NX') then
      suspended = tostring(seconds)
    end
  end
end
"""

# The move itself, shared by RESOLVE and RESPOND once they decided it. Locals set before it: now,
# to, penalty ('' | 'denial' | 'report'), reset ('1'/'0'), grace (ms), channel, message,
# responded ('' or responded_at), device ('' or device id), and (with a suspension policy: KEYS 2
# denial run, 3 report run, 4 suspension flag) den_limit, rep_limit, window (s), seconds.
_MOVE = """
redis.call('HSET', KEYS[1], 's', to)
if responded ~= '' then redis.call('HSET', KEYS[1], 'r', responded) end
if device ~= '' then redis.call('HSET', KEYS[1], 'v', device) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < grace then redis.call('PEXPIRE', KEYS[1], grace) end
redis.call('PUBLISH', channel, message)
local suspended = ''
if #KEYS >= 4 then
  local den_key, rep_key, sus_key = KEYS[2], KEYS[3], KEYS[4]
""" + _PENALTY + """
end
return {1, redis.call('HGETALL', KEYS[1]), suspended}
"""

# KEYS: 1 challenge, then (with a suspension policy) 2 denial run, 3 report run, 4 suspension flag
# ARGV: 1 now, 2 from, 3 to, 4 grace ms, 5 channel, 6 message, 7 responded_at or '', 8 device id or '',
#       9 penalty ('' | 'denial' | 'report'), 10 reset denials ('1'/'0'), 11 denial limit,
#       12 report limit, 13 window s, 14 suspension s
RESOLVE = """
local h = redis.call('HMGET', KEYS[1], 's', 'e')
if not h[1] then return {0} end
local lapsed = h[1] == 'pending' and tonumber(ARGV[1]) >= tonumber(h[2])
if h[1] ~= ARGV[2] or (lapsed and ARGV[3] ~= 'expired') then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local now, to, penalty, reset = ARGV[1], ARGV[3], ARGV[9], ARGV[10]
local grace, channel, message = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local responded, device = ARGV[7], ARGV[8]
local den_limit, rep_limit = tonumber(ARGV[11]), tonumber(ARGV[12])
local window, seconds = tonumber(ARGV[13]), tonumber(ARGV[14])
""" + _MOVE

# A device's answer in one step (ChallengeStore.answer): the challenge must be the user's and
# pending; an approval's number is checked by comparing digests (never the numbers themselves).
# KEYS: 1 challenge, then (with a suspension policy) 2 denial run, 3 report run, 4 suspension flag
# ARGV: 1 now, 2 user id, 3 digest of the picked number or '' (not an approval), 4 penalty of a
#       refusal ('denial' | 'report'), 5 grace ms, 6 channel, 7 challenge id, 8 responded_at,
#       9 device id, 10 denial limit, 11 report limit, 12 window s, 13 suspension s
# Returns {0} (unknown or another user's), {0, hash} (not pending / lapsed) or as RESOLVE.
RESPOND = """
local h = redis.call('HMGET', KEYS[1], 's', 'e', 'd')
if not h[1] or not h[3] then return {0} end
local static = cjson.decode(h[3])
if tostring(static['u']) ~= ARGV[2] then return {0} end
if h[1] ~= 'pending' or tonumber(ARGV[1]) >= tonumber(h[2]) then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local now, to, penalty, reset = ARGV[1], 'denied', ARGV[4], '0'
if ARGV[3] ~= '' and type(static['h']) == 'string' and static['h'] == ARGV[3] then
  to, penalty, reset = 'approved', '', '1'
end
local grace, channel = tonumber(ARGV[5]), ARGV[6]
local responded, device = ARGV[8], ARGV[9]
local message = ARGV[7] .. '|' .. to .. '|' .. responded .. '|' .. device
local den_limit, rep_limit = tonumber(ARGV[10]), tonumber(ARGV[11])
local window, seconds = tonumber(ARGV[12]), tonumber(ARGV[13])
""" + _MOVE

# A browser's read that consumes an approval in the same step (ChallengeStore.claim). The binding
# is compared as SHA-1 digests of the two tokens, so the comparison's timing reveals nothing usable.
# KEYS: 1 challenge, 2 (optional) the poll tickets' counter. ARGV: 1 sha1 hex of the browser's
# binding, 2 grace ms, 3 channel, 4 message, 5 (with KEYS[2]) the caller's ticket: an approval is
# consumed only while the counter still reads it (the caller is the browser's newest poll).
# Returns {0} (unknown or another browser's), {0, hash} (read only) or {1, hash} (consumed now).
CLAIM = """
local h = redis.call('HMGET', KEYS[1], 's', 'd')
if not h[1] or not h[2] then return {0} end
local static = cjson.decode(h[2])
if type(static['b']) ~= 'string' or redis.sha1hex(static['b']) ~= ARGV[1] then return {0} end
if h[1] ~= 'approved' then return {0, redis.call('HGETALL', KEYS[1])} end
if KEYS[2] and redis.call('GET', KEYS[2]) ~= ARGV[5] then return {0, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], 's', 'consumed')
local grace = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < grace then redis.call('PEXPIRE', KEYS[1], grace) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {1, redis.call('HGETALL', KEYS[1])}
"""

# A move's penalty on its own, for the Cluster store (a user's counters live in the user's hash slot,
# the challenge in its own). KEYS: 1 denial run, 2 report run, 3 suspension flag. ARGV: 1 now,
# 2 penalty, 3 reset denials ('1'/'0'), 4 denial limit, 5 report limit, 6 window s, 7 suspension s.
# Returns the suspension's seconds when this call started one, else ''.
PENALTY = """
local now, penalty, reset = ARGV[1], ARGV[2], ARGV[3]
local den_key, rep_key, sus_key = KEYS[1], KEYS[2], KEYS[3]
local den_limit, rep_limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local window, seconds = tonumber(ARGV[6]), tonumber(ARGV[7])
local suspended = ''
""" + _PENALTY + """
return suspended
"""

# The Cluster store's CREATE, in the two hash slots it touches (rate limits: HIT, one by one).
# SAVE: KEYS 1 new challenge. ARGV: 1 static JSON, 2 expires_at, 3 ttl ms.
SAVE = """
redis.call('HSET', KEYS[1], 'd', ARGV[1], 's', 'pending', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# SWAP: KEYS 1 user pointer, 2 suspension flag. ARGV: 1 pointer value, 2 ttl ms, 3 check suspension.
# Returns {'suspended', ttl ms} or {'ok', previous pointer value or ''}.
SWAP = """
if ARGV[3] == '1' then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then return {'suspended', ttl} end
end
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {'ok', previous or ''}
"""

# KEYS: 1 user pointer. Returns {id, hash fields} or nil.
PENDING_FOR_USER = """
local previous = redis.call('GET', KEYS[1])
if not previous then return nil end
local sep = string.find(previous, ' ', 1, true)
return {string.sub(previous, 1, sep - 1), redis.call('HGETALL', string.sub(previous, sep + 1))}
"""

# KEYS: 1 counter. ARGV: 1 window s. Returns {count, ttl ms}.
HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1]) * 1000
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {count, ttl}
"""

# KEYS: 1 suspension flag, 2 denial run, 3 report run. Returns 1 when a suspension was active.
LIFT = """
local active = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return active
"""

-- Releases the pool lock (if still ours) unless the pool's generation moved past the expected one.
-- KEYS: lock, generation. ARGV: token, expected generation ('' = release whatever it is).
-- Returns {released (1|0), generation}.
local generation = redis.call('GET', KEYS[2]) or '0'
if ARGV[2] ~= '' and generation ~= ARGV[2] then return {0, generation} end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return {1, generation}

-- A pool's snapshot for a pairing pass in one round trip, optionally taking the pool's pass
-- lock first. The users' recent games (keys of the users' hash tags, not the pool's) are read
-- by the caller afterwards.
--
-- KEYS: lock, generation, byTime (one pool: one hash tag)
-- ARGV: lock token ('' = no lock), lock TTL ms, entry key prefix (the pool's, same hash tag)
-- Returns {0} when the lock is held by someone else, else
-- {1, generation, {entryId, user, enq, rating, range|nil}…} for the searching entries, oldest first.
--
-- Entry keys are derived here from the ids: they carry the pool's hash tag, so they lie in the
-- slot of the declared keys (Redis Cluster); `enc` is encodeURIComponent on the UTF-8 bytes, as
-- `redisKeys` builds them. The script reads 1 key per entry: a pool of 1,000 searching entries
-- holds Redis for well under a millisecond.
local function enc(s)
  return (string.gsub(s, "[^%w%-_%.!~%*'%(%)]", function(c) return string.format('%%%02X', string.byte(c)) end))
end
if ARGV[1] ~= '' then
  if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {0} end
end
local out = {1, redis.call('GET', KEYS[2]) or '0'}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local row = redis.call('HMGET', ARGV[3] .. enc(id), 'user', 'enq', 'rating', 'range', 'status')
  if row[1] and row[5] == 'SEARCHING' then
    out[#out + 1] = {id, row[1], row[2], row[3], row[4]}
  end
end
return out

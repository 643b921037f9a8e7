-- A pool's snapshot for a pairing pass in one round trip (it was five: lock, generation,
-- ids, entries, recent opponents), optionally taking the pool's pass lock first.
--
-- KEYS: lock, generation, byTime
-- ARGV: lock token ('' = no lock), lock TTL ms, entry key prefix, user key prefix
-- Returns {0} when the lock is held by someone else, else
-- {1, generation, {entryId, user, enq, rating, range|nil, {recent…}}…} for the searching entries,
-- oldest first.
--
-- Entry and user keys are derived here from the ids (the views are not laid out for Redis
-- Cluster); `enc` is encodeURIComponent on the UTF-8 bytes, as `queueViewKeys` builds them.
-- The script reads 2–3 keys per entry: a pool of 1,000 searching entries holds Redis for about
-- a millisecond.
local function enc(s)
  return (string.gsub(s, "[^%w%-_%.!~%*'%(%)]", function(c) return string.format('%%%02X', string.byte(c)) end))
end
if ARGV[1] ~= '' then
  if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {0} end
end
local out = {1, redis.call('GET', KEYS[2]) or '0'}
local recentOf = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local row = redis.call('HMGET', ARGV[3] .. enc(id), 'user', 'enq', 'rating', 'range', 'status')
  local user = row[1]
  if user and row[5] == 'SEARCHING' then
    local recent = recentOf[user]
    if not recent then
      recent = redis.call('LRANGE', ARGV[4] .. enc(user) .. ':recent', 0, -1)
      recentOf[user] = recent
    end
    out[#out + 1] = {id, user, row[2], row[3], row[4], recent}
  end
end
return out

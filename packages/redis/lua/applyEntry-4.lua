-- KEYS: entry, byTime, byRating, generation (one pool: one hash tag)
-- ARGV: position, op, status, entryId, ttlSeconds,
--       [user, pool, enq, rating, range] (only for a new entry)
-- Ops: `add` (searching again: into the pool's sets), `unhold` (like add, but only while the
-- entry is HELD by a challenge match), `remove` (out of the sets with the new status; the hash
-- expires after ttlSeconds, or is kept when ttlSeconds is 0: a matched or held entry can still
-- come back), `end` (the entry's game started: status kept, the hash expires).
-- Returns the number of searching entries in the pool afterwards (also for a redelivered
-- event, which changes nothing): the projector signals a pool only when a pair is possible,
-- and keeps the set of pools with searching entries from it (that set is another slot's key);
-- -1 (and no change) when the entry is unknown and the event is not its QueueJoined.
local cur = redis.call('HGET', KEYS[1], 'pos')
if not cur and not ARGV[6] then return -1 end
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return redis.call('ZCARD', KEYS[2]) end
local op = ARGV[2]
if op == 'unhold' then
  if redis.call('HGET', KEYS[1], 'status') == 'HELD' then op = 'add' else op = 'end' end
end
if op == 'end' then
  redis.call('HSET', KEYS[1], 'pos', ARGV[1])
  if ARGV[2] == 'end' then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
  return redis.call('ZCARD', KEYS[2])
end
redis.call('HSET', KEYS[1], 'pos', ARGV[1], 'status', ARGV[3])
if ARGV[6] then
  redis.call('HSET', KEYS[1], 'user', ARGV[6], 'pool', ARGV[7], 'enq', ARGV[8], 'rating', ARGV[9], 'range', ARGV[10])
end
if op == 'add' then
  local f = redis.call('HMGET', KEYS[1], 'enq', 'rating')
  redis.call('ZADD', KEYS[2], f[1], ARGV[4])
  redis.call('ZADD', KEYS[3], f[2], ARGV[4])
  redis.call('PERSIST', KEYS[1])
  redis.call('INCR', KEYS[4])
elseif op == 'remove' then
  local removed = redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('ZREM', KEYS[3], ARGV[4])
  if tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) else redis.call('PERSIST', KEYS[1]) end
  if removed == 1 then redis.call('INCR', KEYS[4]) end
end
return redis.call('ZCARD', KEYS[2])

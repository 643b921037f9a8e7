/**
 * Lua scripts of the queue views. Each checks the position last applied to its key and
 * does nothing for an event at or before it, so redelivery (at-least-once) is harmless.
 */

/**
 * KEYS: entry, byTime, byRating, pools, generation
 * ARGV: position, op, status, entryId, poolMember, ttlSeconds,
 *       [user, pool, enq, rating, range] (only for a new entry)
 * Ops: `add` (searching again: into the pool's sets), `unhold` (like add, but only while the
 * entry is HELD by a challenge match), `remove` (out of the sets with the new status; the hash
 * expires after ttlSeconds, or is kept when ttlSeconds is 0: a matched or held entry can still
 * come back), `end` (the entry's game started: status kept, the hash expires).
 * Returns the number of searching entries in the pool afterwards (also for a redelivered
 * event, which changes nothing): the projector signals a pool only when a pair is possible;
 * -1 (and no change) when the entry is unknown and the event is not its QueueJoined.
 */
export const APPLY_ENTRY = `
local cur = redis.call('HGET', KEYS[1], 'pos')
if not cur and not ARGV[7] then return -1 end
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return redis.call('ZCARD', KEYS[2]) end
local op = ARGV[2]
if op == 'unhold' then
  if redis.call('HGET', KEYS[1], 'status') == 'HELD' then op = 'add' else op = 'end' end
end
if op == 'end' then
  redis.call('HSET', KEYS[1], 'pos', ARGV[1])
  if ARGV[2] == 'end' then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
  return redis.call('ZCARD', KEYS[2])
end
redis.call('HSET', KEYS[1], 'pos', ARGV[1], 'status', ARGV[3])
if ARGV[7] then
  redis.call('HSET', KEYS[1], 'user', ARGV[7], 'pool', ARGV[8], 'enq', ARGV[9], 'rating', ARGV[10], 'range', ARGV[11])
end
if op == 'add' then
  local f = redis.call('HMGET', KEYS[1], 'enq', 'rating')
  redis.call('ZADD', KEYS[2], f[1], ARGV[4])
  redis.call('ZADD', KEYS[3], f[2], ARGV[4])
  redis.call('SADD', KEYS[4], ARGV[5])
  redis.call('PERSIST', KEYS[1])
  redis.call('INCR', KEYS[5])
elseif op == 'remove' then
  local removed = redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('ZREM', KEYS[3], ARGV[4])
  if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[4], ARGV[5]) end
  if tonumber(ARGV[6]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[6]) else redis.call('PERSIST', KEYS[1]) end
  if removed == 1 then redis.call('INCR', KEYS[5]) end
end
return redis.call('ZCARD', KEYS[2])
`;

/**
 * The batch's checkpoint, written only if the views are still the ones this projector built:
 * the epoch (a random id written when the views were started from empty) is unchanged and
 * the checkpoint is the one it wrote last. A Redis that restarted empty, was flushed, or came
 * back from an older snapshot fails the check, and the projector rebuilds instead of writing
 * a checkpoint over views it no longer has.
 *
 * KEYS: checkpoint, epoch. ARGV: epoch, expected checkpoint ('' = none yet), new checkpoint
 * Returns 'ok', 'epoch' or 'checkpoint' (what did not match).
 */
export const WRITE_CHECKPOINT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'epoch' end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return 'checkpoint' end
redis.call('SET', KEYS[1], ARGV[3])
return 'ok'
`;

/** KEYS: recent list, its position key. ARGV: position, item (JSON), keep, ttlSeconds */
export const PUSH_RECENT = `
local cur = redis.call('GET', KEYS[2])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`;

/**
 * A pool's snapshot for a pairing pass in one round trip (it was five: lock, generation,
 * ids, entries, recent opponents), optionally taking the pool's pass lock first.
 *
 * KEYS: lock, generation, byTime
 * ARGV: lock token ('' = no lock), lock TTL ms, entry key prefix, user key prefix
 * Returns {0} when the lock is held by someone else, else
 * {1, generation, {entryId, user, enq, rating, range|nil, {recent…}}…} for the searching entries,
 * oldest first.
 *
 * Entry and user keys are derived here from the ids (the views are not laid out for Redis
 * Cluster); `enc` is encodeURIComponent on the UTF-8 bytes, as `queueViewKeys` builds them.
 * The script reads 2–3 keys per entry: a pool of 1,000 searching entries holds Redis for about
 * a millisecond.
 */
export const POOL_SNAPSHOT = `
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
`;

-- A user's recent games, newest first, with the position of the last event applied as the
-- list's head: {'#<position>', newest item, …} (one key per user; idempotent by position).
-- KEYS: recent list. ARGV: position, item, keep (items), ttlSeconds.
-- Returns 1 when applied, 0 for an old position.
local head = redis.call('LINDEX', KEYS[1], 0)
local cur
if head and string.sub(head, 1, 1) == '#' then cur = tonumber(string.sub(head, 2)) end
if cur and cur >= tonumber(ARGV[1]) then return 0 end
if cur then redis.call('LPOP', KEYS[1]) end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('LPUSH', KEYS[1], '#' .. ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1

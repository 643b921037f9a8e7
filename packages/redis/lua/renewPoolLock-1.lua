-- Extends the pool lock only while it is still ours.
-- KEYS: lock. ARGV: token, ttl ms. Returns 1 when extended, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0

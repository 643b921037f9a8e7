-- The batch's checkpoint, written only if the views are still the ones this projector built:
-- the epoch (a random id written when the views were started from empty) is unchanged and
-- the checkpoint is the one it wrote last. A Redis that restarted empty, was flushed, or came
-- back from an older snapshot fails the check, and the projector rebuilds instead of writing
-- a checkpoint over views it no longer has.
--
-- KEYS: checkpoint, epoch. ARGV: epoch, expected checkpoint ('' = none yet), new checkpoint
-- Returns 'ok', 'epoch' or 'checkpoint' (what did not match).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'epoch' end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return 'checkpoint' end
redis.call('SET', KEYS[1], ARGV[3])
return 'ok'

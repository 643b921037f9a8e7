import type { Redis } from 'ioredis';

/*
 * A short per-pool lock so two workers do not pass over the same pool at once — an
 * optimisation only (fewer lost claim races): the commit protocol is correct without it,
 * and the lock expires by itself when its holder dies. It is taken together with the pool's
 * snapshot (`QueueViewReader.lockAndSnapshot`).
 */

/** KEYS: lock, generation. ARGV: token, expected generation ('' = release whatever it is). */
const RELEASE_IF_UNCHANGED = `
local generation = redis.call('GET', KEYS[2]) or '0'
if ARGV[2] ~= '' and generation ~= ARGV[2] then return {0, generation} end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return {1, generation}
`;

export const poolLockKey = (prefix: string, tenantId: string, poolKey: string): string =>
  `${prefix}:lock:pairing:${encodeURIComponent(tenantId)}:${encodeURIComponent(poolKey)}`;

export interface PoolLock {
  key: string;
  token: string;
  /** The pool's generation counter (bumped by the projector on every change). */
  generationKey: string;
}

/**
 * Releases the pool lock (if still ours) unless the pool's generation moved past `expected`,
 * in one step: `released: false` means the pool changed during the pass and the lock is still
 * held for another one. Atomic with the check, so a change can never slip in between "nothing
 * changed" and the release (its signal then either finds the lock held — and this check sees the
 * change — or comes after the release and starts a pass itself). `expected: null` always releases.
 */
export async function releasePoolLockIfUnchanged(
  redis: Redis,
  lock: PoolLock,
  expected: number | null,
): Promise<{ released: boolean; generation: number }> {
  const [released, generation] = (await redis.eval(
    RELEASE_IF_UNCHANGED,
    2,
    lock.key,
    lock.generationKey,
    lock.token,
    expected === null ? '' : String(expected),
  )) as [number, string];
  return { released: released === 1, generation: Number(generation) };
}

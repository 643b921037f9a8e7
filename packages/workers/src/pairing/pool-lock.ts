import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export const poolLockKey = (prefix: string, tenantId: string, poolKey: string): string =>
  `${prefix}:lock:pairing:${encodeURIComponent(tenantId)}:${encodeURIComponent(poolKey)}`;

/**
 * A short per-pool lock so two workers do not pass over the same pool at once — an
 * optimisation only (fewer lost claim races): the commit protocol is correct without it,
 * and the lock expires by itself when its holder dies.
 */
/** Releases a pool lock taken with `token` (no-op if it expired and someone else holds it now). */
export async function releasePoolLock(redis: Redis, key: string, token: string): Promise<void> {
  await redis.eval(RELEASE, 1, key, token);
}

export async function tryLockPool(
  redis: Redis,
  key: string,
  ttlMs: number,
): Promise<{ release(): Promise<void> } | null> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return null;
  return {
    release: () => releasePoolLock(redis, key, token),
  };
}

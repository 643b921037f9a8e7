import type { RedisClient } from './client.js';
import { withScripts } from './scripts.js';

/*
 * A short per-pool lock so two workers do not pass over the same pool at once — an
 * optimisation only (fewer lost claim races): the commit protocol is correct without it,
 * and the lock expires by itself when its holder dies. It is taken together with the pool's
 * snapshot (`QueueViewReader.lockAndSnapshot`, script `poolSnapshot`); its key is
 * `redisKeys(prefix).poolLock(tenant, pool)`.
 */

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
  redis: RedisClient,
  lock: PoolLock,
  expected: number | null,
): Promise<{ released: boolean; generation: number }> {
  const [released, generation] = (await withScripts(redis).mmReleasePoolLockIfUnchanged(
    lock.key,
    lock.generationKey,
    lock.token,
    expected === null ? '' : String(expected),
  )) as [number, string];
  return { released: released === 1, generation: Number(generation) };
}

/** Extends the pool lock to `ttlMs` from now if `lock` still holds it; false if it is gone or another's. */
export async function renewPoolLock(
  redis: RedisClient,
  lock: Pick<PoolLock, 'key' | 'token'>,
  ttlMs: number,
): Promise<boolean> {
  return (await withScripts(redis).mmRenewPoolLock(lock.key, lock.token, String(ttlMs))) === 1;
}

/**
 * Keeps the pool lock alive while a pass runs: renews it to `ttlMs` every `everyMs` until
 * `stop()` (call it when the lock is released). The TTL can then be short — a dead holder blocks
 * the pool for at most `ttlMs` — without a long pass (a big pool, a slow store) losing the lock
 * halfway. A pass shorter than `everyMs` costs no renewal at all. Once the lock is gone or
 * another's, renewing stops; the pass goes on (the lock is only an optimisation).
 */
export function keepPoolLock(
  redis: RedisClient,
  lock: Pick<PoolLock, 'key' | 'token'>,
  ttlMs: number,
  everyMs: number,
): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      renewPoolLock(redis, lock, ttlMs).then(
        (held) => {
          if (held && !stopped) schedule();
        },
        () => {
          if (!stopped) schedule(); // a Redis blip: try again at the next interval
        },
      );
    }, everyMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

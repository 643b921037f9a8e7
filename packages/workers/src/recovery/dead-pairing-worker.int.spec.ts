import { bullPrefix, createPairingQueue, PAIRING_QUEUE, type PairingJobData, redisKeys } from '@mm/redis';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchWith, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import { PAIRING_WORKER_LOCK, POOL_LOCK_TTL_MS } from '../start-workers.js';

/*
 * A worker dies (no graceful shutdown) while it runs a pool's pairing job and holds the pool's
 * lock. The pool's job is deduplicated: while the dead worker's job looks active, new signals
 * are only kept as its successor, so the pool is blocked until BullMQ takes the job back as
 * stalled. With the worker settings in use that must happen — and the pool be passed — within
 * 2 s of the death.
 */
let stack: WorkerStack;
let deadConnection: Redis;
let dead: Worker<PairingJobData> | undefined;
beforeAll(async () => {
  stack = await startWorkerStack({ WORKER_INTERVAL_SECONDS: '60' });
  deadConnection = stack.redis.duplicate();
});
afterAll(async () => {
  await dead?.close(true).catch(() => undefined);
  deadConnection?.disconnect();
  await stack?.stop();
});

describe('a pairing worker that died holding a pool', () => {
  it('gets its pool passed by another worker within 2 s', async () => {
    const queue = createPairingQueue(stack.redis, stack.prefix);
    try {
      // Two players: the projector signals the pool; nobody takes the job yet.
      await stack.join('early-a', 1500);
      await stack.join('early-b', 1500);
      await stack.until(async () => (await queue.getWaitingCount()) === 1, "the pool's waiting job");

      // "The worker that dies": takes the job with the pairing workers' lock settings and the
      // pool lock (as a pass does), then never renews either — a SIGKILLed process.
      dead = new Worker<PairingJobData>(PAIRING_QUEUE, null, {
        connection: deadConnection,
        prefix: bullPrefix(stack.prefix, PAIRING_QUEUE),
        autorun: false,
        ...PAIRING_WORKER_LOCK,
      });
      const job = await dead.getNextJob('dead-worker-token');
      expect(job?.data).toEqual({ tenantId: TENANT, poolKey: POOL.key });
      await stack.redis.set(redisKeys(stack.prefix).poolLock(TENANT, POOL.key), 'dead-pass', 'PX', POOL_LOCK_TTL_MS);
      const diedAt = Date.now();

      // The survivor is running; players keep joining (their signals wait behind the dead job).
      await stack.startWorkers({ roles: ['pairing'] });
      await stack.join('late-a', 1500);
      await stack.join('late-b', 1500);

      const matched = await stack.until(
        async () => {
          const events = await stack.events();
          const [early, late] = [matchWith(events, 'early-'), matchWith(events, 'late-')];
          return early && late ? events.filter((e) => e.type === 'MatchCreated') : undefined;
        },
        'both pairs matched',
        20_000,
      );
      const resumedMs = Math.max(...matched.map((e) => e.recordedAt.getTime())) - diedAt;
      process.stderr.write(`dead pairing worker: pool passed again ${resumedMs} ms after the death\n`);
      expect(resumedMs).toBeLessThanOrEqual(2_000);
    } finally {
      await queue.close();
    }
  });
});

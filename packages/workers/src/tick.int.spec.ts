import { createQueueViewReader } from '@mm/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOL, startWorkerStack, TENANT, type WorkerStack } from '../test/stack.js';
import type { Workers } from './start-workers.js';

let stack: WorkerStack;
let workers: Workers;
beforeAll(async () => {
  stack = await startWorkerStack({ MAX_QUEUE_TIME_SECONDS: '600' });
  // No worker runs (no role): the tick is called by hand and nothing consumes its signals.
  workers = await stack.startWorkers({ roles: [] });
});
afterAll(async () => {
  await stack?.stop();
});

const poolSize = async () =>
  (await createQueueViewReader(stack.redis, stack.prefix).poolStats([{ tenantId: TENANT, poolKey: POOL.key }]))[0]!;

/** Waits until the projector has brought the pool's view to `size` entries. */
const viewHas = (size: number) =>
  stack.until(async () => (await poolSize()).size === size, `a view with ${size} entries`);

describe('scheduler tick', () => {
  it('signals a pool only when time alone can change its outcome', async () => {
    // a lone entry that is not due for its timeout: nobody to pair it with, no pass
    const solo = await stack.join('solo', 1500);
    await viewHas(1);
    expect((await workers.tick()).signalled).toBe(0);

    // a lone entry past MAX_QUEUE_TIME_SECONDS: the pass times it out
    await stack.cancel('solo', solo);
    const enqueuedAt = Date.now() - 601_000;
    const old = await stack.join('old', 1500, { enqueuedAt });
    await stack.until(async () => (await poolSize()).oldestEnqueuedAt === enqueuedAt, 'the old entry in the view');
    expect((await workers.tick()).signalled).toBe(1);

    // two entries (even far apart: windows widen with time): a pass
    await stack.cancel('old', old);
    await stack.join('low', 1000);
    await stack.join('high', 2400);
    await viewHas(2);
    expect((await workers.tick()).signalled).toBe(1);
  });

  it('reports size and oldest enqueue time per pool, null for an empty pool', async () => {
    const reader = createQueueViewReader(stack.redis, stack.prefix);
    const [known, empty] = await reader.poolStats([
      { tenantId: TENANT, poolKey: POOL.key },
      { tenantId: TENANT, poolKey: 'no-such-pool' },
    ]);
    expect(known).toMatchObject({ tenantId: TENANT, poolKey: POOL.key, size: 2 });
    expect(known!.oldestEnqueuedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(empty).toEqual({ tenantId: TENANT, poolKey: 'no-such-pool', size: 0, oldestEnqueuedAt: null });
  });
});

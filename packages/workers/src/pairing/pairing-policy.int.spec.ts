import { pairingSettings } from '@mm/config';
import { parseEvent, poolStream } from '@mm/contracts';
import { createQueueViewReader } from '@mm/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import { type PairingPassContext, runPairingPass } from './pairing-pass.js';
import { poolModes } from './wave.js';

let stack: WorkerStack;
let now = Date.parse('2026-12-01T12:00:00.000Z');
const T0 = now;
let ctx: PairingPassContext;

beforeAll(async () => {
  // This pool pairs with a tight window that widens by 1 every second (PAIRING_POLICIES);
  // the window settings (the default for other pools) would pair a 40-point gap at once.
  stack = await startWorkerStack({ PAIRING_POLICIES: `${POOL.key}=window@30/1/1/500` });
  ctx = {
    ...stack.context(),
    now: () => now,
    redis: stack.redis,
    reader: createQueueViewReader(stack.redis, stack.config.REDIS_PREFIX),
    modeOf: poolModes(stack.config.WAVE_POOLS),
  };
});
afterAll(async () => {
  await stack?.stop();
});

describe('the pairing worker pairs each pool with the policy PAIRING_POLICIES gives it', () => {
  it('waits until both windows of the policy reach the gap, and records the policy windows', async () => {
    expect(pairingSettings(stack.config).initialWindow).toBe(100);
    const a = await stack.join('pol-a', 1500, { enqueuedAt: T0 - 3_000 });
    const b = await stack.join('pol-b', 1540, { enqueuedAt: T0 - 2_000 });
    await stack.settle();
    const early = await runPairingPass(ctx, { tenantId: TENANT, poolKey: POOL.key });
    // windows 30 + 3 and 30 + 2 < 40: nobody paired (the window settings would have paired them)
    expect(early).toMatchObject({ searching: 2, proposed: 0, matchIds: [] });

    now = T0 + 9_000; // waits 12 s and 11 s: windows 42 and 41 ≥ 40
    const later = await runPairingPass(ctx, { tenantId: TENANT, poolKey: POOL.key });
    expect(later.matchIds).toHaveLength(1);
    const [record] = await stack.store.readStream(poolStream(TENANT, POOL.key));
    const { data } = parseEvent('PairingPassCompleted', record!.schemaVersion, record!.data);
    expect(data.config).toEqual({
      initialWindow: 30,
      wideningStep: 1,
      wideningIntervalSeconds: 1,
      maxWindow: 500,
      rematchCooldownSeconds: 0,
    });
    const byId = new Map(data.entries.map((e) => [e.entryId, e]));
    expect(byId.get(a)?.window).toEqual({ low: 1458, high: 1542 });
    expect(byId.get(b)?.window).toEqual({ low: 1499, high: 1581 });
  });
});

import { pairingSettings } from '@mm/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { runPaced } from './driver/pacing.js';
import { waitUntilSettled } from './driver/settle.js';
import { readModelsVsReplay, viewsVsReplay } from './faults/checks.js';
import { type Stack, startStack } from './stack/stack.js';
import { auditSettled } from './verify.js';

/*
 * Scale-out: every kind of process runs as two instances against one PostgreSQL and one
 * Redis — two APIs behind a round-robin balancer, two projectors (one leads, one stands by:
 * nothing is applied twice), two workers. Under load every answer is right, the log settles
 * clean, and the Redis views and the read models equal a replay of the log.
 */
const TENANT = 'scale-t1';
const RATE = 40;
const SECONDS = 8;
const POOLS = ['3+0', '5+0'];

describe('two instances of every process', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ apis: 2, projectors: 2, workers: 2, label: 'e2e_scale', logLevel: 'warn' });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('serve one load together: answers are right, the log is clean, views and read models equal a replay', async () => {
    const client = new MatchmakingClient(stack.apiUrl);
    const failures: string[] = [];
    const joined: { userId: string; entryId: string }[] = [];
    await runPaced(RATE * SECONDS, RATE, 16, async (i) => {
      const userId = `so${i}_r${1450 + (i % 100)}`;
      const res = await client.join(TENANT, userId, POOLS[i % POOLS.length]!, 'rated');
      if (res.status !== 201) failures.push(`join ${userId}: ${res.status}`);
      else joined.push({ userId, entryId: res.body.queue_entry_id });
    });
    expect(failures).toEqual([]);
    // Both API instances took connections from the balancer.
    const perInstance = [...stack.balancer!.connections.values()];
    expect(perInstance).toHaveLength(2);
    expect(Math.min(...perInstance)).toBeGreaterThan(0);

    const policy = pairingSettings(stack.config);
    const settle = await waitUntilSettled(() => stack.readAll(), policy, { timeoutMs: 60_000, pollMs: 500 });
    if (!settle.settled) stack.fail();
    expect(settle.settled, JSON.stringify(settle.last)).toBe(true);
    const audit = auditSettled(settle.events, policy);
    if (!audit.ok) stack.fail();
    expect(audit.violations, audit.report).toEqual([]);
    const matches = settle.events.filter((e) => e.type === 'MatchCreated').length;
    expect(matches).toBeGreaterThanOrEqual(Math.floor(joined.length / 2) - POOLS.length);

    // Whichever instance a client lands on, it reads its own entry as matched.
    for (const { userId, entryId } of joined.slice(0, 20)) {
      const res = await client.entry(TENANT, userId, entryId);
      expect(res.status).toBe(200);
      expect(['MATCHED', 'SEARCHING']).toContain(res.body.status);
    }

    // One projector applied the log (the standby never did): views and read models are a replay's.
    const views = await viewsVsReplay(stack.config.REDIS_URL, stack.redisPrefix, () => stack.readAll());
    expect(views.differing).toEqual([]);
    const readModels = await readModelsVsReplay(stack.config.DATABASE_URL, stack.schema, () => stack.readAll());
    expect(readModels.lagging).toBe(false);
    expect(readModels.differing, JSON.stringify(readModels.differingRows)).toBe(0);
    expect(stack.projectors[1]!.log()).toMatch(/"msg":"projector standby/);
    expect(stack.projectors[1]!.log()).not.toMatch(/"msg":"projector started/);
  }, 180_000);
});

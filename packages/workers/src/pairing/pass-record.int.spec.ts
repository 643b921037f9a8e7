import { pairingSettings } from '@mm/config';
import { matchStream, parseEvent, poolStream } from '@mm/contracts';
import { ALGORITHM_VERSION } from '@mm/pairing';
import { createQueueViewReader } from '@mm/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofType, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import { type PairingPassContext, runPairingPass } from './pairing-pass.js';
import { appendPassRecord } from './pass-record.js';
import { poolModes } from './wave.js';

let stack: WorkerStack;
let ctx: PairingPassContext;
const NOW = Date.parse('2026-11-30T12:00:00.000Z');

beforeAll(async () => {
  stack = await startWorkerStack();
  ctx = {
    ...stack.context(),
    now: () => NOW,
    redis: stack.redis,
    reader: createQueueViewReader(stack.redis, stack.config.REDIS_PREFIX),
    modeOf: poolModes(stack.config.WAVE_POOLS),
  };
});
afterAll(async () => {
  await stack?.stop();
});

/** The stack's store, with every append it is asked for noted (the streams of each call). */
function spiedStore() {
  const appended: string[][] = [];
  const store = Object.create(stack.store) as typeof stack.store;
  store.appendToStream = (streamName, events, options) => {
    appended.push([streamName]);
    return stack.store.appendToStream(streamName, events, options);
  };
  store.appendToStreams = (appends) => {
    appended.push(appends.map((a) => a.streamName));
    return stack.store.appendToStreams!(appends);
  };
  return { store, appended };
}

describe('a pairing pass records what it saw and decided (PairingPassCompleted)', () => {
  it('writes one record with the entries, windows, waits, pairs, match ids and certificate; a retry adds nothing', async () => {
    const ea = await stack.join('rec-a', 1500, { enqueuedAt: NOW - 12_000 });
    const eb = await stack.join('rec-b', 1540, { enqueuedAt: NOW - 3_000 });
    const ec = await stack.join('rec-far', 2300, { enqueuedAt: NOW - 1_000 });
    await stack.settle();
    const snapshot = await ctx.reader.snapshot(TENANT, POOL.key);
    expect(snapshot).toHaveLength(3);

    const { store, appended } = spiedStore();
    const first = await runPairingPass({ ...ctx, store }, { tenantId: TENANT, poolKey: POOL.key }, snapshot);
    expect(first.matchIds).toHaveLength(1);
    expect(first.recorded).toBe(true);
    // its one decision: the record goes with the match, in the match's transaction (no append of its own)
    expect(appended.filter((streams) => streams.includes(poolStream(TENANT, POOL.key)))).toEqual([
      [
        expect.stringMatching(/^player-/),
        expect.stringMatching(/^player-/),
        matchStream(first.matchIds[0]!),
        poolStream(TENANT, POOL.key),
      ],
    ]);
    const stream = await stack.store.readStream(poolStream(TENANT, POOL.key));
    expect(stream.map((e) => e.type)).toEqual(['PairingPassCompleted']);
    expect(stream[0]!.id).toBe(first.passId);
    const { data } = parseEvent('PairingPassCompleted', stream[0]!.schemaVersion, stream[0]!.data);
    const settings = pairingSettings(stack.config);
    expect(data).toMatchObject({
      passId: first.passId,
      pool: POOL,
      decidedAt: new Date(NOW).toISOString(),
      config: settings,
      algorithmVersion: ALGORITHM_VERSION,
      certificate: { exact: true, edges: 1 },
    });
    const byId = new Map(data.entries.map((e) => [e.entryId, e]));
    expect([...byId.keys()].sort()).toEqual([ea, eb, ec].sort());
    // 12 s waited: one widening step (100 + 25); 3 s and 1 s: the initial window
    expect(byId.get(ea)).toEqual({
      entryId: ea,
      userId: 'rec-a',
      rating: 1500,
      waitMs: 12_000,
      window: { low: 1375, high: 1625 },
    });
    expect(byId.get(eb)).toMatchObject({ waitMs: 3_000, window: { low: 1440, high: 1640 } });
    expect(byId.get(ec)).toMatchObject({ waitMs: 1_000, window: { low: 2200, high: 2400 } });
    expect(data.pairs).toEqual([
      {
        a: [ea, eb].sort()[0],
        b: [ea, eb].sort()[1],
        ratingGap: 40,
        weight: data.totalWeight,
        outcome: 'matched',
        matchId: first.matchIds[0],
      },
    ]);
    expect(data.certificate.upperBound).toBe(data.totalWeight);
    // the match links back to the pass
    const [created] = await stack.store.readStream(matchStream(first.matchIds[0]!));
    expect(created!.data).toMatchObject({ passId: first.passId, decidedAt: data.decidedAt });

    // The record's append repeated (a retry after a lost reply): the store knows its id.
    await appendPassRecord(ctx, TENANT, data);
    expect(await stack.store.readStream(poolStream(TENANT, POOL.key))).toHaveLength(1);
    // The same job again, at the same clock or later (a stalled job taken back) from the same
    // stale view: the pair is no longer searching, nothing is committed and nothing recorded.
    for (const now of [NOW, NOW + 700]) {
      const retried = await runPairingPass(
        { ...ctx, now: () => now },
        { tenantId: TENANT, poolKey: POOL.key },
        snapshot,
      );
      expect(retried.outcomes).toEqual({ stale: 1 });
      expect(retried.recorded).toBe(false);
    }
    expect(await stack.store.readStream(poolStream(TENANT, POOL.key))).toHaveLength(1);
    expect(ofType(await stack.events(), 'MatchCreated')).toHaveLength(1);
  });

  it('a pass of two decisions records itself after both commits, in an append of its own', async () => {
    for (const [user, rating] of [
      ['two-a', 1600],
      ['two-b', 1610],
      ['two-c', 1800],
      ['two-d', 1805],
    ] as const)
      await stack.join(user, rating, { enqueuedAt: NOW - 5_000 });
    await stack.settle();
    const snapshot = await ctx.reader.snapshot(TENANT, POOL.key);
    expect(snapshot.map((e) => e.userId).sort()).toEqual(['rec-far', 'two-a', 'two-b', 'two-c', 'two-d']);
    const { store, appended } = spiedStore();
    const result = await runPairingPass({ ...ctx, store }, { tenantId: TENANT, poolKey: POOL.key }, snapshot);
    expect(result.matchIds).toHaveLength(2);
    expect(result.recorded).toBe(true);
    expect(appended.filter((streams) => streams.includes(poolStream(TENANT, POOL.key)))).toEqual([
      [poolStream(TENANT, POOL.key)],
    ]);
    expect(appended.at(-1)).toEqual([poolStream(TENANT, POOL.key)]); // after the commits
    const record = (await stack.store.readStream(poolStream(TENANT, POOL.key))).at(-1);
    const { data } = parseEvent('PairingPassCompleted', record!.schemaVersion, record!.data);
    expect(data.pairs.map((p) => p.matchId).sort()).toEqual([...result.matchIds].sort());
    expect(data.pairs.every((p) => p.outcome === 'matched')).toBe(true);
  });

  it('a pass that pairs nobody writes nothing', async () => {
    const before = (await stack.store.readStream(poolStream(TENANT, POOL.key))).length;
    await stack.settle();
    const snapshot = await ctx.reader.snapshot(TENANT, POOL.key);
    expect(snapshot.map((e) => e.userId)).toEqual(['rec-far']);
    const result = await runPairingPass(ctx, { tenantId: TENANT, poolKey: POOL.key }, snapshot);
    expect(result.proposed).toBe(0);
    expect(result.passId).toBeNull();
    expect(await stack.store.readStream(poolStream(TENANT, POOL.key))).toHaveLength(before);
  });
});

import { matchStream, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { defaultPairingConfig, type PoolEntry, pairPool } from '@mm/pairing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingStore, ofType, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import type { WorkerContext } from '../context.js';
import { commitPair } from './commit-pair.js';

let stack: WorkerStack;
let baseCtx: WorkerContext;
beforeAll(async () => {
  stack = await startWorkerStack();
  baseCtx = stack.context();
});
afterAll(async () => {
  await stack?.stop();
});

const entryOf = (userId: string, entryId: string, rating: number): PoolEntry => ({
  entryId,
  userId,
  rating,
  enqueuedAt: Date.now() - 1000,
});
const pairOf = (x: PoolEntry, y: PoolEntry) => {
  const [pair] = pairPool([x, y], Date.now(), defaultPairingConfig).pairs;
  if (!pair) throw new Error('not pairable');
  return pair;
};
const entryState = async (userId: string, entryId: string) =>
  (await loadState(stack.store, playerStream(TENANT, userId), playerDecider)).state.entries[entryId]!;

/** The store as one without multi-stream transactions (EventStoreDB) sees it: claims and compensation. */
const perStream = (store: EventStore): EventStore => countingStore(store, false).store;

describe.each([
  ['one transaction (appendToStreams)', 'tx', (c: WorkerContext) => c],
  [
    'claims and compensation (no multi-stream appends)',
    'seq',
    (c: WorkerContext) => ({ ...c, store: perStream(c.store) }),
  ],
])('commit protocol: %s', (_label, tag, variant) => {
  it('a cancel racing a claim: exactly one wins, every time', async () => {
    const ctx = variant(baseCtx);
    for (let round = 0; round < 12; round++) {
      const [ua, ub] = [`race-${tag}-a${round}`, `race-${tag}-b${round}`];
      const ea = await stack.join(ua, 1500);
      const eb = await stack.join(ub, 1500);
      const pair = pairOf(entryOf(ua, ea, 1500), entryOf(ub, eb, 1500));
      // cancel either side: the first claimed (pair.a) or the second (pair.b)
      const victim = round % 2 === 0 ? pair.a : pair.b;
      const [outcome, cancelled] = await Promise.all([
        commitPair(ctx, { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt: Date.now() }),
        stack.cancel(victim.userId, victim.entryId),
      ]);
      const victimEntry = await entryState(victim.userId, victim.entryId);
      if (cancelled) {
        expect(victimEntry.status).toBe('cancelled');
        expect(outcome.outcome).not.toBe('matched');
      } else {
        expect(outcome.outcome).toBe('matched');
        expect(victimEntry.status).toBe('matched');
      }
      // the other side is either in the (single) match or searching again — never stuck claimed
      const survivor = victim === pair.a ? pair.b : pair.a;
      const survivorEntry = await entryState(survivor.userId, survivor.entryId);
      expect(survivorEntry.status).toBe(cancelled ? 'searching' : 'matched');
      if ('matchId' in outcome) {
        const matchEvents = await stack.store.readStream(matchStream(outcome.matchId));
        expect(matchEvents.map((e) => e.type)).toEqual(cancelled ? [] : ['MatchCreated']);
      }
    }
  });

  it('a retried commit of the same decision converges on one match (idempotent)', async () => {
    const ctx = variant(baseCtx);
    const [ua, ub] = [`idem-${tag}-a`, `idem-${tag}-b`];
    const ea = await stack.join(ua, 1500);
    const eb = await stack.join(ub, 1510);
    const pair = pairOf(entryOf(ua, ea, 1500), entryOf(ub, eb, 1510));
    const decidedAt = Date.now();
    const [one, two] = await Promise.all([
      commitPair(ctx, { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt }),
      commitPair(ctx, { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt }),
    ]);
    const outcomes = [one.outcome, two.outcome];
    expect(outcomes).toContain('matched');
    const all = await stack.events();
    const claims = ofType(all, 'QueueEntryMatched').filter((e) => [ea, eb].includes(e.data.queueEntryId));
    expect(claims).toHaveLength(2);
    expect(new Set(claims.map((c) => c.data.matchId)).size).toBe(1);
    expect(ofType(all, 'MatchCreated').filter((e) => e.data.matchId === claims[0]!.data.matchId)).toHaveLength(1);
  });
});

describe('commit protocol: one transaction', () => {
  it('claims and MatchCreated are one commit: adjacent in the log', async () => {
    const ea = await stack.join('tx-a', 1500);
    const eb = await stack.join('tx-b', 1500);
    const pair = pairOf(entryOf('tx-a', ea, 1500), entryOf('tx-b', eb, 1500));
    const { calls, store } = countingStore(stack.store);
    const outcome = await commitPair(
      { ...baseCtx, store },
      { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt: Date.now() },
    );
    expect(outcome.outcome).toBe('matched');
    expect(calls).toEqual(['appendToStreams']);
    const matchId = (outcome as { matchId: string }).matchId;
    const log = await stack.events();
    const at = log.findIndex(
      (e) => e.type === 'QueueEntryMatched' && (e.data as { matchId?: string }).matchId === matchId,
    );
    expect(log.slice(at, at + 3).map((e) => [e.type, e.streamName])).toEqual([
      ['QueueEntryMatched', playerStream(TENANT, pair.a.userId)],
      ['QueueEntryMatched', playerStream(TENANT, pair.b.userId)],
      ['MatchCreated', matchStream(matchId)],
    ]);
  });

  it('a cancel landing between the read and the commit: nothing is written, the other entry still searches', async () => {
    const ea = await stack.join('txc-a', 1500);
    const eb = await stack.join('txc-b', 1500);
    const pair = pairOf(entryOf('txc-a', ea, 1500), entryOf('txc-b', eb, 1500));
    const store: EventStore = {
      ...stack.store,
      async appendToStreams(appends) {
        expect(await stack.cancel('txc-b', eb)).toBe(true);
        return stack.store.appendToStreams!(appends);
      },
    };
    const outcome = await commitPair(
      { ...baseCtx, store },
      { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt: Date.now() },
    );
    expect(outcome).toMatchObject({ outcome: 'claim_conflict' });
    const matchId = (outcome as { matchId: string }).matchId;
    expect((await stack.store.readStream(playerStream(TENANT, 'txc-a'))).map((e) => e.type)).toEqual(['QueueJoined']);
    expect((await entryState('txc-a', ea)).status).toBe('searching');
    expect((await entryState('txc-b', eb)).status).toBe('cancelled');
    expect(await stack.store.readStream(matchStream(matchId))).toEqual([]);
  });
});

describe('commit protocol: claims and compensation', () => {
  it("B's claim failing releases A (original enqueue time kept), and no MatchCreated is written", async () => {
    const ctx = { ...baseCtx, store: perStream(baseCtx.store) };
    const ea = await stack.join('rel-a', 1500, { entryId: 'rel-entry-1' });
    const eb = await stack.join('rel-b', 1500, { entryId: 'rel-entry-2' });
    const enqueuedAt = (await entryState('rel-a', ea)).enqueuedAt;
    const pair = pairOf(entryOf('rel-a', ea, 1500), entryOf('rel-b', eb, 1500));
    expect(pair.a.userId).toBe('rel-a'); // claimed first (smaller entry id)

    // B cancels right after A is claimed: wrap the store to inject the cancel at that moment
    const store: EventStore = {
      ...perStream(stack.store),
      async appendToStream(streamName, events, options) {
        const result = await stack.store.appendToStream(streamName, events, options);
        if (streamName === playerStream(TENANT, 'rel-a') && events[0]?.type === 'QueueEntryMatched')
          expect(await stack.cancel('rel-b', eb)).toBe(true);
        return result;
      },
    };
    const outcome = await commitPair(
      { ...ctx, store },
      { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt: Date.now() },
    );
    expect(outcome).toMatchObject({ outcome: 'second_claim_failed' });
    const matchId = (outcome as { matchId: string }).matchId;

    const aStream = await stack.store.readStream(playerStream(TENANT, 'rel-a'));
    expect(aStream.map((e) => e.type)).toEqual(['QueueJoined', 'QueueEntryMatched', 'QueueEntryReleased']);
    expect(aStream[2]!.data).toMatchObject({ matchId, reason: 'opponent_unavailable' });
    const a = await entryState('rel-a', ea);
    expect(a.status).toBe('searching');
    expect(a.enqueuedAt).toBe(enqueuedAt);
    expect(await stack.store.readStream(matchStream(matchId))).toEqual([]);

    // running the same decision again (a retried job) cannot claim anybody for that match any more
    const again = await commitPair(ctx, { tenantId: TENANT, poolKey: POOL.key, pair, decidedAt: Date.now() });
    expect(again.outcome).toBe('stale');
  });
});

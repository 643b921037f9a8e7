import { auditLog } from '@mm/audit';
import { pairingSettings } from '@mm/config';
import { matchStream, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import { defaultPairingConfig, type PoolEntry, pairPool } from '@mm/pairing';
import { redisKeys } from '@mm/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofType, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import type { WorkerContext } from '../context.js';
import { queueMatchId } from '../ids/deterministic-ids.js';
import { claimEntry } from '../pairing/claim-entry.js';
import { buildQueueMatch } from '../pairing/explanation.js';

let stack: WorkerStack;
let ctx: WorkerContext;
beforeAll(async () => {
  stack = await startWorkerStack();
  ctx = stack.context();
});
afterAll(async () => {
  await stack?.stop();
});

const entryState = async (userId: string, entryId: string) =>
  (await loadState(stack.store, playerStream(TENANT, userId), playerDecider)).state.entries[entryId]!;

/**
 * What a worker that died mid-commit leaves behind: the claims of `claimed`, no MatchCreated.
 * Like that worker, it holds the pool's pass lock meanwhile, so a live pass cannot pair the two
 * players first (the lock is dropped at the end instead of waiting for its TTL).
 */
async function crashAfterClaims(users: [string, string], claimed: 'first' | 'both', rating = 1500) {
  const lockKey = redisKeys(stack.config.REDIS_PREFIX).poolLock(TENANT, POOL.key);
  await stack.redis.set(lockKey, 'a-worker-that-died', 'PX', 10_000);
  try {
    return await claimAsADyingWorker(users, claimed, rating);
  } finally {
    await stack.redis.del(lockKey);
  }
}

async function claimAsADyingWorker(users: [string, string], claimed: 'first' | 'both', rating: number) {
  const [ea, eb] = [await stack.join(users[0], rating), await stack.join(users[1], rating)];
  const now = Date.now();
  const [pair] = pairPool(
    [
      { entryId: ea, userId: users[0], rating, enqueuedAt: now - 1000 },
      { entryId: eb, userId: users[1], rating, enqueuedAt: now - 1000 },
    ],
    now,
    defaultPairingConfig,
  ).pairs;
  if (!pair) throw new Error('not pairable');
  const matchId = queueMatchId(
    TENANT,
    { queueEntryId: ea, streamRevision: 0 },
    { queueEntryId: eb, streamRevision: 0 },
  );
  const decision = buildQueueMatch({ matchId, poolKey: POOL.key, pair: pair!, decidedAt: now });
  const claim = (e: PoolEntry, o: PoolEntry) =>
    claimEntry(ctx, {
      tenantId: TENANT,
      userId: e.userId,
      queueEntryId: e.entryId,
      decision,
      opponent: { userId: o.userId, queueEntryId: o.entryId, rating: o.rating },
      atRevision: 0,
    });
  expect(await claim(pair.a, pair.b)).toEqual({ ok: true });
  if (claimed === 'both') expect(await claim(pair.b, pair.a)).toEqual({ ok: true });
  return { matchId, a: pair.a, b: pair.b };
}

describe('crash recovery (scheduler tick sweep)', () => {
  it('both claims stand without MatchCreated → the match is completed from the recorded decision, and gets its game', async () => {
    const { matchId, a, b } = await crashAfterClaims(['cr-a', 'cr-b'], 'both');
    await stack.settle();
    await new Promise((r) => setTimeout(r, 1100)); // CLAIM_RECOVERY_SECONDS = 1
    await stack.startWorkers();
    const game = await stack.until(
      async () => ofType(await stack.events(), 'GameCreated').find((e) => e.data.matchId === matchId),
      'GameCreated for the recovered match',
    );
    expect(game).toBeTruthy();
    const matchEvents = await stack.store.readStream(matchStream(matchId));
    expect(matchEvents.map((e) => e.type)).toEqual(['MatchCreated', 'GameCreated']);
    // GameCreated lands before RecordGameStarted on the player streams: wait for both.
    for (const side of [a, b]) {
      const gameId = await stack.until(
        async () => (await entryState(side.userId, side.entryId)).gameId ?? undefined,
        'game on the entry',
      );
      expect(gameId).toBe(game.data.gameId);
    }
  });

  it('only the first claim, and the other player cancelled meanwhile → the claim is released (entry searches again)', async () => {
    const { matchId, a, b } = await crashAfterClaims(['cr-c', 'cr-d'], 'first');
    expect(await stack.cancel(b.userId, b.entryId)).toBe(true);
    const released = await stack.until(
      async () => ofType(await stack.events(), 'QueueEntryReleased').find((e) => e.data.matchId === matchId),
      'release of the stale claim',
    );
    expect(released.data).toMatchObject({ queueEntryId: a.entryId, reason: 'opponent_unavailable' });
    expect(await stack.store.readStream(matchStream(matchId))).toEqual([]);
  });

  it('only the first claim, other player still searching → recovery claims it and completes the match', async () => {
    // a rating nobody else in the pool is near, so the live pass cannot take the searching side first
    const { matchId } = await crashAfterClaims(['cr-e', 'cr-f'], 'first', 2900);
    const created = await stack.until(
      async () => ofType(await stack.events(), 'MatchCreated').find((e) => e.data.matchId === matchId),
      'MatchCreated by recovery',
    );
    expect(created).toBeTruthy();
    const claims = ofType(await stack.events(), 'QueueEntryMatched').filter((e) => e.data.matchId === matchId);
    expect(claims).toHaveLength(2);
  });
});

describe('several workers on the same pools', () => {
  it('two worker instances and forced concurrent passes never pair an entry twice; the audit of the log is clean', async () => {
    const second = await stack.startWorkers();
    const users = Array.from({ length: 60 }, (_, i) => `many-${i}`);
    const entries = new Map<string, string>();
    await Promise.all(users.map(async (u, i) => entries.set(u, await stack.join(u, 1400 + (i % 12) * 15))));
    // on top of the BullMQ jobs, passes that bypass the pool lock, racing each other
    await Promise.all([second.pass(TENANT, POOL.key), second.pass(TENANT, POOL.key), second.pass(TENANT, POOL.key)]);
    // a few random cancels while it runs
    await Promise.all(users.filter((_, i) => i % 7 === 0).map((u) => stack.cancel(u, entries.get(u)!)));

    // settle: every entry of this test matched-with-game, cancelled, or searching alone
    await stack.until(
      async () => {
        const events = await stack.events();
        const mine = new Set(entries.values());
        const open = ofType(events, 'MatchCreated').filter(
          (m) =>
            mine.has(m.data.white.queueEntryId) &&
            !events.some(
              (e) =>
                (e.type === 'GameCreated' || e.type === 'MatchAborted') &&
                (e.data as { matchId: string }).matchId === m.data.matchId,
            ),
        );
        const states = await Promise.all(users.map((u) => entryState(u, entries.get(u)!)));
        const searching = states.filter((s) => s.status === 'searching').length;
        const claimedNoGame = states.filter((s) => s.status === 'matched' && s.gameId === null).length;
        return open.length === 0 && claimedNoGame === 0 && searching <= 1;
      },
      'the pool to settle',
      30_000,
    );
    const events = await stack.events();
    const audit = auditLog(events, { settled: true, windowPolicy: pairingSettings(stack.config), clockSkewMs: 5000 });
    expect(audit.violations).toEqual([]);
    // every entry in at most one MatchCreated that was not aborted
    const live = new Map<string, number>();
    const aborted = new Set(ofType(events, 'MatchAborted').map((e) => e.data.matchId));
    for (const m of ofType(events, 'MatchCreated'))
      if (!aborted.has(m.data.matchId))
        for (const side of [m.data.white, m.data.black])
          live.set(side.queueEntryId, (live.get(side.queueEntryId) ?? 0) + 1);
    expect([...live.values()].every((n) => n === 1)).toBe(true);
  });
});

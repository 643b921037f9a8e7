import { matchStream, playerStream } from '@mm/contracts';
import { redisKeys, releasePoolLockIfUnchanged } from '@mm/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchWith, ofType, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';

let stack: WorkerStack;
beforeAll(async () => {
  stack = await startWorkerStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('pairing workers (BullMQ, PostgreSQL event store, Redis views)', () => {
  it('two compatible players → claims on both streams, MatchCreated with the explanation, GameCreated, games recorded', async () => {
    await stack.startWorkers();
    const e1 = await stack.join('p1', 1500);
    const e2 = await stack.join('p2', 1540);

    const created = await stack.until(async () => ofType(await stack.events(), 'GameCreated')[0], 'GameCreated');
    const matchId: string = created.data.matchId;
    const matchEvents = await stack.store.readStream(matchStream(matchId));
    expect(matchEvents.map((e) => e.type)).toEqual(['MatchCreated', 'GameCreated']);
    const match = ofType(matchEvents, 'MatchCreated')[0]!.data;
    expect(match).toMatchObject({
      matchId,
      source: 'queue',
      pool: POOL,
      ratingGap: 40,
      algorithmVersion: expect.any(String),
      colourReason: expect.any(String),
      weight: expect.any(Number),
    });
    const sides = [match.white, match.black];
    expect(sides.map((s) => s.userId).sort()).toEqual(['p1', 'p2']);
    expect(sides.map((s) => s.queueEntryId).sort()).toEqual([e1, e2].sort());
    for (const side of sides) {
      expect(side.window.low).toBeLessThanOrEqual(side.window.high);
      expect(side.waitMs).toBeGreaterThanOrEqual(0);
    }
    // I4 from the event alone
    expect(match.black.rating).toBeGreaterThanOrEqual(match.white.window.low);
    expect(match.black.rating).toBeLessThanOrEqual(match.white.window.high);
    expect(match.white.rating).toBeGreaterThanOrEqual(match.black.window.low);
    expect(match.white.rating).toBeLessThanOrEqual(match.black.window.high);

    // each player: joined → claimed (naming the match; on PostgreSQL the claims and MatchCreated
    // commit together, so the decision is only in MatchCreated) → game started, with the colour of the match
    for (const [userId, entryId] of [
      ['p1', e1],
      ['p2', e2],
    ] as const) {
      const stream = await stack.until(async () => {
        const events = await stack.store.readStream(playerStream(TENANT, userId));
        return events.some((e) => e.type === 'QueueEntryGameStarted') && events;
      }, `game started for ${userId}`);
      expect(stream.map((e) => e.type)).toEqual(['QueueJoined', 'QueueEntryMatched', 'QueueEntryGameStarted']);
      expect(stream[1]!.data).toMatchObject({ queueEntryId: entryId, matchId });
      expect(stream[1]!.data).not.toHaveProperty('decision');
      expect(stream[2]!.data).toMatchObject({
        queueEntryId: entryId,
        matchId,
        gameId: created.data.gameId,
        colour: match.white.userId === userId ? 'white' : 'black',
      });
    }

    // the live-game-api call: the contract's body, idempotency key = match id
    const call = stack.liveGame.requests.find((r) => r.url === '/internal/games')!;
    expect(call.headers['idempotency-key']).toBe(matchId);
    expect(call.body).toMatchObject({
      tenant_id: TENANT,
      white_user_id: match.white.userId,
      black_user_id: match.black.userId,
      time_control: '3+0',
      mode: 'rated',
      white_rating: match.white.rating,
      black_rating: match.black.rating,
      metadata: { match_id: matchId, source: 'queue' },
    });

    // exactly one match, one claim per entry
    const all = await stack.events();
    expect(ofType(all, 'MatchCreated')).toHaveLength(1);
    expect(ofType(all, 'QueueEntryMatched')).toHaveLength(2);
  });

  it('incompatible ratings are not paired; a third compatible player is', async () => {
    await stack.join('far', 2400);
    await stack.join('near', 1400);
    await stack.join('near2', 1420);
    const match = await stack.until(async () => matchWith(await stack.events(), 'near'), 'the near pair');
    expect([match.white.userId, match.black.userId].sort()).toEqual(['near', 'near2']);
    await stack.settle();
    const farStream = await stack.store.readStream(playerStream(TENANT, 'far'));
    expect(farStream.map((e) => e.type)).toEqual(['QueueJoined']);
  });

  it('a pool locked by a pass that died is paired once the lock expires (the tick signals it again)', async () => {
    const lockKey = redisKeys(stack.config.REDIS_PREFIX).poolLock(TENANT, POOL.key);
    await stack.redis.set(lockKey, 'a-dead-holder', 'PX', 1500);
    const lockedAt = Date.now();
    await stack.join('late1', 1700);
    await stack.join('late2', 1710);
    const match = await stack.until(
      async () => matchWith(await stack.events(), 'late'),
      'the pair after the lock expired',
    );
    // Jobs that found the pool locked completed without pairing: nothing before the expiry.
    expect(Date.parse(match.decidedAt)).toBeGreaterThanOrEqual(lockedAt + 1400);
    expect([match.white.userId, match.black.userId].sort()).toEqual(['late1', 'late2']);
  });
});

describe('releasePoolLockIfUnchanged', () => {
  it('releases only while the pool generation is the one the pass saw, atomically', async () => {
    const generationKey = redisKeys(stack.config.REDIS_PREFIX).generation(TENANT, 'lock-test');
    const lock = { key: `${stack.config.REDIS_PREFIX}:lock:test`, token: 'mine', generationKey };
    await stack.redis.set(generationKey, '5');
    await stack.redis.set(lock.key, 'mine', 'PX', 5000);

    await stack.redis.incr(generationKey); // the pool changed during the pass
    expect(await releasePoolLockIfUnchanged(stack.redis, lock, 5)).toEqual({ released: false, generation: 6 });
    expect(await stack.redis.get(lock.key)).toBe('mine');

    expect(await releasePoolLockIfUnchanged(stack.redis, lock, 6)).toEqual({ released: true, generation: 6 });
    expect(await stack.redis.get(lock.key)).toBeNull();

    // someone else's lock (ours expired) is left alone; null = release whatever the generation
    await stack.redis.set(lock.key, 'theirs', 'PX', 5000);
    expect(await releasePoolLockIfUnchanged(stack.redis, lock, null)).toEqual({ released: true, generation: 6 });
    expect(await stack.redis.get(lock.key)).toBe('theirs');
  });
});

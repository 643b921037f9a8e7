import { makePool, playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { redisKeys } from '@mm/redis';
import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningProjection, runProjection } from '../runner/projection-runner.js';
import { diffQueueViews, dumpQueueViews } from './queue-view-dump.js';
import { createQueueViewProjection, type QueueViewProjection } from './queue-view-projection.js';

/* How the queue views notice state they lost or never had, short of a lost Redis (projector-recovery). */

let redis: Redis;
let store: EventStore;
let prefix: string;
let projection: QueueViewProjection;
let run: RunningProjection;
const tenant = 't-cons';
const pool = makePool('3+0', 'rated');
const metadata = {
  tenantId: tenant,
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service' as const, id: 't' },
};
const now = () => new Date().toISOString();

async function player(userId: string, command: Parameters<typeof playerDecider.decide>[0]) {
  const result = await handleCommand({
    store,
    streamName: playerStream(tenant, userId),
    decider: playerDecider,
    command,
    metadata,
  });
  if (!result.ok) throw new Error(result.error.code);
}
const join = (userId: string) =>
  player(userId, {
    type: 'JoinQueue',
    userId,
    queueEntryId: `e-${userId}`,
    pool,
    rating: 1500,
    ratingSource: 'default',
    ratingRange: null,
    now: now(),
  });
const cancel = (userId: string) =>
  player(userId, { type: 'CancelQueueEntry', userId, queueEntryId: `e-${userId}`, now: now() });
const claim = (userId: string, matchId: string) =>
  player(userId, {
    type: 'ClaimQueueEntry',
    userId,
    queueEntryId: `e-${userId}`,
    matchId,
    opponent: { userId: 'other', queueEntryId: null, rating: 1500 },
    now: now(),
  });

const head = async () => (await store.readAll({ maxCount: 10_000 })).at(-1)!.position;
const caughtUp = async () => run.waitFor(await head());

/** The views a fresh replay of the log builds into another prefix. */
async function replay(): Promise<Record<string, unknown>> {
  const other = randomRedisPrefix('cons-replay');
  try {
    const r = await runProjection(store, createQueueViewProjection({ redis, prefix: other }));
    await r.caughtUp;
    await r.close();
    return await dumpQueueViews(redis, other);
  } finally {
    await deleteRedisPrefix(redis, other);
  }
}

beforeAll(() => {
  redis = createTestRedis();
});
afterAll(() => {
  redis?.disconnect();
});
beforeEach(async () => {
  store = createMemoryEventStore();
  prefix = randomRedisPrefix('cons');
  projection = createQueueViewProjection({ redis, prefix, idleCheckMs: 100 });
  run = await runProjection(store, projection);
  await run.caughtUp;
});
afterEach(async () => {
  await run.close();
  await deleteRedisPrefix(redis, prefix);
});

describe('queue views consistency', () => {
  it('an event for an entry whose hash is gone (evicted, epoch intact) rebuilds the views from the log', async () => {
    for (const u of ['a', 'b', 'c']) await join(u);
    await caughtUp();
    await redis.del(redisKeys(prefix).entry(tenant, pool.key, 'e-a'));
    await cancel('a');
    await caughtUp();
    expect(projection.stats()).toEqual({ rebuilds: 1, unknownEntries: 0 });
    expect(diffQueueViews(await dumpQueueViews(redis, prefix), await replay())).toEqual([]);
  });

  it('an event for an entry the log never created is counted and skipped after one rebuild', async () => {
    await join('a');
    await store.appendToStream(playerStream(tenant, 'ghost'), [
      {
        id: crypto.randomUUID(),
        type: 'QueueCancelled',
        data: { userId: 'ghost', queueEntryId: 'e-ghost', reason: 'user', cancelledAt: now() },
        metadata,
      },
    ]);
    await join('b');
    await caughtUp();
    expect(projection.stats()).toEqual({ rebuilds: 1, unknownEntries: 1 });
    expect(diffQueueViews(await dumpQueueViews(redis, prefix), await replay())).toEqual([]);
    const ghost = [redisKeys('').entry(tenant, pool.key, 'e-ghost'), redisKeys('').entryPool(tenant, 'e-ghost')];
    expect(Object.keys(await dumpQueueViews(redis, prefix))).not.toEqual(expect.arrayContaining([ghost[0]]));
    expect(Object.keys(await dumpQueueViews(redis, prefix))).not.toEqual(expect.arrayContaining([ghost[1]]));
  });

  it('a checkpoint moved back (Redis restored from an older snapshot) resumes from it without a rebuild', async () => {
    await join('a');
    const older = await head();
    await join('b');
    await caughtUp();
    // An older snapshot: the checkpoint and b's entry as they were before b joined.
    const keys = redisKeys(prefix);
    await redis.set(keys.checkpoint(), String(older));
    await redis.del(keys.entry(tenant, pool.key, 'e-b'));
    await redis.zrem(keys.byTime(tenant, pool.key), 'e-b');
    await redis.zrem(keys.byRating(tenant, pool.key), 'e-b');
    await join('c');
    await caughtUp();
    expect(projection.stats()).toEqual({ rebuilds: 0, unknownEntries: 0 });
    const views = await dumpQueueViews(redis, prefix);
    expect(views[redisKeys('').byTime(tenant, pool.key)]).toEqual([
      ['e-a', expect.any(Number)],
      ['e-b', expect.any(Number)],
      ['e-c', expect.any(Number)],
    ]);
  });

  it('a matched entry keeps its hash until its game starts or it ends, so a late release still brings it back', async () => {
    const keys = redisKeys(prefix);
    await join('a');
    await claim('a', 'm-1');
    await caughtUp();
    expect(await redis.ttl(keys.entry(tenant, pool.key, 'e-a'))).toBe(-1); // no expiry while its match can be aborted
    await player('a', {
      type: 'ReleaseQueueEntry',
      userId: 'a',
      queueEntryId: 'e-a',
      matchId: 'm-1',
      reason: 'match_aborted',
      now: now(),
    });
    await claim('a', 'm-2');
    await player('a', {
      type: 'RecordGameStarted',
      userId: 'a',
      queueEntryId: 'e-a',
      matchId: 'm-2',
      gameId: 'g-2',
      colour: 'white',
      now: now(),
    });
    await caughtUp();
    expect(await redis.hget(keys.entry(tenant, pool.key, 'e-a'), 'status')).toBe('MATCHED');
    expect(await redis.ttl(keys.entry(tenant, pool.key, 'e-a'))).toBeGreaterThan(0); // its game started: ended for good
    await cancel('a').catch(() => undefined); // nothing to cancel any more
    await join('b');
    await cancel('b');
    await caughtUp();
    expect(await redis.ttl(keys.entry(tenant, pool.key, 'e-b'))).toBeGreaterThan(0);
    expect(projection.stats()).toEqual({ rebuilds: 0, unknownEntries: 0 });
    expect(diffQueueViews(await dumpQueueViews(redis, prefix), await replay())).toEqual([]);
  });

  it('views lost while nothing happens (no event, no reconnect) are rebuilt by the idle check', async () => {
    for (const u of ['a', 'b']) await join(u);
    await caughtUp();
    const expected = await replay();
    await deleteRedisPrefix(redis, prefix); // e.g. FLUSHALL by hand: the connection stays up
    const deadline = Date.now() + 5000;
    while (diffQueueViews(await dumpQueueViews(redis, prefix), expected).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(diffQueueViews(await dumpQueueViews(redis, prefix), expected)).toEqual([]);
    expect(projection.stats().rebuilds).toBe(1);
  });
});

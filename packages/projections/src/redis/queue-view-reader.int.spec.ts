import { redisKeys } from '@mm/redis';
import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueViewReader } from './queue-view-reader.js';

let redis: Redis;
const prefix = randomRedisPrefix('reader');
const keys = redisKeys(prefix);
// Ids with every kind of character encodeURIComponent treats differently: the snapshot script
// derives entry and user keys itself and must build exactly the keys the projection wrote.
const tenant = 'tenant:ü/1 %';
const pool = '3+0:rated';
const users = ['Zoë:1/ü%', "o'brien(x)*!~._-", 'plain', '日本 語'];
const entryIds = ['e:1/ü', 'e 2+3', "e'(4)", 'e-5'];

/** Writes an entry the way the queue-view projection lays it out. */
async function writeEntry(i: number, status: string, range: string | null) {
  const entryId = entryIds[i]!;
  await redis.hset(keys.entry(tenant, pool, entryId), {
    pos: String(i),
    status,
    pool,
    user: users[i]!,
    enq: String(1000 + i),
    rating: String(1500 + i),
    range: range ?? '',
  });
  if (range === null) await redis.hdel(keys.entry(tenant, pool, entryId), 'range');
  await redis.zadd(keys.byTime(tenant, pool), 1000 + i, entryId);
}

beforeAll(async () => {
  redis = createTestRedis();
  await writeEntry(0, 'SEARCHING', JSON.stringify({ min: 1400 }));
  await writeEntry(1, 'SEARCHING', null);
  await writeEntry(2, 'MATCHED', null); // removed between the projection's steps: skipped
  await writeEntry(3, 'SEARCHING', null);
  await redis.set(keys.generation(tenant, pool), '7');
  const recent = (opponentId: string, at: string, colour: string) =>
    JSON.stringify({ opponentId, at, colour, matchId: `m-${opponentId}` });
  // newest first
  await redis.rpush(
    keys.recent(tenant, users[0]!),
    recent('plain', '2026-11-29T10:00:05.000Z', 'black'),
    recent('x', '2026-11-29T10:00:01.000Z', 'white'),
  );
  await redis.rpush(keys.recent(tenant, users[3]!), recent(users[0]!, '2026-11-29T10:00:03.000Z', 'white'));
});
afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  redis?.disconnect();
});

describe('queue view reader', () => {
  it('reads the searching entries with their recent opponents and colours, oldest first', async () => {
    const reader = createQueueViewReader(redis, prefix);
    expect(await reader.read(tenant, pool)).toEqual({
      generation: 7,
      entries: [
        {
          entryId: entryIds[0],
          userId: users[0],
          rating: 1500,
          enqueuedAt: 1000,
          ratingRange: { min: 1400 },
          recentOpponents: [
            { userId: 'plain', at: Date.parse('2026-11-29T10:00:05.000Z') },
            { userId: 'x', at: Date.parse('2026-11-29T10:00:01.000Z') },
          ],
          colourHistory: ['white', 'black'],
        },
        {
          entryId: entryIds[1],
          userId: users[1],
          rating: 1501,
          enqueuedAt: 1001,
          ratingRange: null,
          recentOpponents: [],
          colourHistory: [],
        },
        {
          entryId: entryIds[3],
          userId: users[3],
          rating: 1503,
          enqueuedAt: 1003,
          ratingRange: null,
          recentOpponents: [{ userId: users[0], at: Date.parse('2026-11-29T10:00:03.000Z') }],
          colourHistory: ['white'],
        },
      ],
    });
    expect((await reader.snapshot(tenant, pool)).map((e) => e.entryId)).toEqual([
      entryIds[0],
      entryIds[1],
      entryIds[3],
    ]);
    expect(await reader.read(tenant, 'no-such-pool')).toEqual({ generation: 0, entries: [] });
  });

  it('takes the pool lock and reads in one step; a held lock reads nothing', async () => {
    const reader = createQueueViewReader(redis, prefix);
    const lockKey = `${prefix}:lock:test`;
    const mine = await reader.lockAndSnapshot(tenant, pool, { key: lockKey, token: 'a', ttlMs: 5000 });
    expect(mine).toMatchObject({ locked: true, generation: 7 });
    expect(mine.locked && mine.entries).toHaveLength(3);
    expect(await redis.get(lockKey)).toBe('a');
    const pttl = await redis.pttl(lockKey);
    expect(pttl).toBeGreaterThan(4000);
    expect(pttl).toBeLessThanOrEqual(5000);

    expect(await reader.lockAndSnapshot(tenant, pool, { key: lockKey, token: 'b', ttlMs: 5000 })).toEqual({
      locked: false,
    });
    expect(await redis.get(lockKey)).toBe('a');

    await redis.del(lockKey);
    expect(await reader.lockAndSnapshot(tenant, pool, { key: lockKey, token: 'b', ttlMs: 5000 })).toMatchObject({
      locked: true,
    });
  });
});

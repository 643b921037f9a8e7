import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisKeys, withScripts } from '../src/index.js';

const redis = createTestRedis();
const prefix = randomRedisPrefix('recent');
const keys = redisKeys(prefix);
const scripts = withScripts(redis) as Redis & {
  mmPushRecent(
    list: string,
    legacyPosition: string,
    position: number,
    item: string,
    keep: number,
    ttl: number,
  ): Promise<number>;
};
afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
});

describe('pushRecent-2.lua: a user’s recent games in one key', () => {
  it('keeps the last position as the list’s head, newest games after it, at most `keep`, idempotent by position', async () => {
    const list = keys.recent('t', 'ann');
    const pos = keys.recentPosition('t', 'ann');
    for (const [position, item] of [
      [10, 'w1|a'],
      [20, 'b2|b'],
      [30, 'w3|c'],
    ] as const)
      expect(await scripts.mmPushRecent(list, pos, position, item, 2, 3600)).toBe(1);
    expect(await scripts.mmPushRecent(list, pos, 20, 'b2|b', 2, 3600)).toBe(0); // redelivered
    expect(await redis.lrange(list, 0, -1)).toEqual(['#30', 'w3|c', 'b2|b']);
    expect(await redis.exists(pos)).toBe(0);
    expect(await redis.ttl(list)).toBeGreaterThan(3500);
  });

  it('takes over a list written before (items only, the position in its own key) and drops that key', async () => {
    const list = keys.recent('t', 'bob');
    const pos = keys.recentPosition('t', 'bob');
    await redis.rpush(list, '{"opponentId":"x","at":"2026-11-29T10:00:00.000Z","colour":"white","matchId":"m"}');
    await redis.set(pos, '50', 'EX', 600);
    expect(await scripts.mmPushRecent(list, pos, 40, 'b4|y', 10, 3600)).toBe(0); // older than the legacy position
    expect(await scripts.mmPushRecent(list, pos, 60, 'b6|y', 10, 3600)).toBe(1);
    expect(await redis.lrange(list, 0, -1)).toEqual([
      '#60',
      'b6|y',
      '{"opponentId":"x","at":"2026-11-29T10:00:00.000Z","colour":"white","matchId":"m"}',
    ]);
    expect(await redis.exists(pos)).toBe(0);
  });
});

import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisKeys, withScripts } from '../src/index.js';

const redis = createTestRedis();
const prefix = randomRedisPrefix('recent');
const keys = redisKeys(prefix);
const scripts = withScripts(redis) as Redis & {
  mmPushRecent(list: string, position: number, item: string, keep: number, ttl: number): Promise<number>;
};
afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
});

describe('pushRecent-1.lua: a user’s recent games in one key', () => {
  it('keeps the last position as the list’s head, newest games after it, at most `keep`, idempotent by position', async () => {
    const list = keys.recent('t', 'ann');
    for (const [position, item] of [
      [10, 'w1|a'],
      [20, 'b2|b'],
      [30, 'w3|c'],
    ] as const)
      expect(await scripts.mmPushRecent(list, position, item, 2, 3600)).toBe(1);
    expect(await scripts.mmPushRecent(list, 20, 'b2|b', 2, 3600)).toBe(0); // redelivered
    expect(await redis.lrange(list, 0, -1)).toEqual(['#30', 'w3|c', 'b2|b']);
    expect(await redis.ttl(list)).toBeGreaterThan(3500);
  });
});

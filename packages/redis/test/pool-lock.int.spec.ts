import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { keepPoolLock, redisKeys, renewPoolLock } from '../src/index.js';

const redis = createTestRedis();
const prefix = randomRedisPrefix('poollock');
afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pool lock renewal', () => {
  it('keeps the lock of a pass longer than its TTL, and lets it expire once stopped', async () => {
    const lock = { key: redisKeys(prefix).poolLock('t', 'long-pass'), token: 'mine' };
    await redis.set(lock.key, lock.token, 'PX', 300);
    const keeper = keepPoolLock(redis, lock, 300, 100);
    await sleep(1_000); // more than three TTLs
    expect(await redis.get(lock.key)).toBe('mine');
    keeper.stop();
    await sleep(400);
    expect(await redis.get(lock.key)).toBeNull();
  });

  it("never extends another holder's lock", async () => {
    const key = redisKeys(prefix).poolLock('t', 'taken');
    await redis.set(key, 'theirs', 'PX', 5_000);
    expect(await renewPoolLock(redis, { key, token: 'mine' }, 60_000)).toBe(false);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
    expect(await renewPoolLock(redis, { key, token: 'theirs' }, 60_000)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(5_000);
    expect(await renewPoolLock(redis, { key: redisKeys(prefix).poolLock('t', 'none'), token: 'mine' }, 1_000)).toBe(
      false,
    );
  });
});

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const testRedisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A random key prefix so test files sharing one Redis never see each other's keys. */
export const randomRedisPrefix = (label = 't'): string => `test:${label}:${randomBytes(4).toString('hex')}`;

/** Deletes every key under `prefix` (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export const createTestRedis = (): Redis => new Redis(testRedisUrl(), { maxRetriesPerRequest: null });

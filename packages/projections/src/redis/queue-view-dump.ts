import { commandBatch, type RedisClient, redisKeys, scanKeys } from '@mm/redis';

/**
 * Every key of the queue views under `prefix` with its value, by the key's name after the
 * prefix: for comparing two builds of the views (the live ones against a replay of the log
 * into another prefix). Hashes as objects, sets sorted, sorted sets as `[member, score]`
 * pairs in Redis order, lists as they are. The epoch (random per build) is left out, and
 * TTLs are not compared. Reads with SCAN (every primary of a cluster), so it does not block a
 * shared Redis; keys of an older layout are not views any more and are left out.
 */
export async function dumpQueueViews(redis: RedisClient, prefix: string): Promise<Record<string, unknown>> {
  const keys = redisKeys(prefix);
  const found = new Set<string>();
  await scanKeys(redis, `${prefix}:*`, (batch) => {
    for (const key of batch) if (keys.isCurrentQueueViewKey(key)) found.add(key);
  });
  found.delete(keys.epoch());
  const names = [...found].sort();
  const out: Record<string, unknown> = {};
  for (let from = 0; from < names.length; from += 1000) {
    const chunk = names.slice(from, from + 1000);
    const typed = commandBatch(redis);
    for (const key of chunk) typed.type(key);
    const types = ((await typed.exec()) ?? []).map(([, type]) => String(type));
    const read = commandBatch(redis);
    chunk.forEach((key, i) => {
      switch (types[i]) {
        case 'hash':
          read.hgetall(key);
          break;
        case 'zset':
          read.zrange(key, '0', '-1', 'WITHSCORES');
          break;
        case 'set':
          read.smembers(key);
          break;
        case 'list':
          read.lrange(key, 0, -1);
          break;
        default:
          read.get(key); // a string, or 'none' (expired in between): null
      }
    });
    const values = (await read.exec()) ?? [];
    chunk.forEach((key, i) => {
      const [error, raw] = values[i] ?? [null, null];
      if (error) throw error;
      let value: unknown = raw;
      if (types[i] === 'hash') value = Object.fromEntries(Object.entries(raw as Record<string, string>).sort());
      else if (types[i] === 'set') value = [...(raw as string[])].sort();
      else if (types[i] === 'zset') {
        const flat = raw as string[];
        const pairs: [string, number][] = [];
        for (let j = 0; j < flat.length; j += 2) pairs.push([flat[j]!, Number(flat[j + 1])]);
        value = pairs;
      }
      if (value !== null) out[key.slice(prefix.length)] = value;
    });
  }
  return out;
}

/** A key whose value differs between two dumps of {@link dumpQueueViews} (undefined = missing there). */
export interface QueueViewDifference {
  key: string;
  actual: unknown;
  expected: unknown;
}

/** The keys that differ between two dumps (e.g. the live views and a replay), sorted by key. */
export function diffQueueViews(
  actual: Record<string, unknown>,
  expected: Record<string, unknown>,
): QueueViewDifference[] {
  const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort();
  return keys
    .filter((key) => JSON.stringify(actual[key]) !== JSON.stringify(expected[key]))
    .map((key) => ({ key, actual: actual[key], expected: expected[key] }));
}

import calculateSlot from 'cluster-key-slot';
import type { ChainableCommander, Cluster, Redis, RedisOptions } from 'ioredis';

/**
 * A connection to the service's Redis: one server (`Redis`, with replicas for failover) or a
 * Redis Cluster (`Cluster`). Everything in this package takes either; the key layout
 * (`keys.ts`) keeps every script and every multi-key command on one hash slot.
 */
export type RedisClient = Redis | Cluster;

export const isCluster = (redis: RedisClient): redis is Cluster => (redis as Cluster).isCluster === true;

/** The slot of a key (CRC16 of its hash tag, or of the whole key without one), as Redis Cluster computes it. */
export const keySlot = (key: string): number => calculateSlot(key);

type Queued = { name: string; args: unknown[]; key: string };

/**
 * A pipeline of commands whose keys may lie in different slots: on one server, the server's
 * pipeline (one round trip); on a cluster, the commands grouped by the node that serves their
 * first key's slot, one pipeline per node, all sent at once (commands of one slot keep their
 * order; a command must touch one slot only, as every script of this package does). Use it as
 * ioredis's `pipeline()`: chain commands, then `exec()` gives `[error, reply]` per command in
 * the order they were queued.
 */
export function commandBatch(redis: RedisClient): ChainableCommander {
  if (!isCluster(redis)) return redis.pipeline();
  const queued: Queued[] = [];
  const batch: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_target, name) {
      if (name === 'length') return queued.length;
      if (name === 'exec') return () => execOnCluster(redis, queued);
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => {
        queued.push({ name, args, key: String(args[0]) });
        return batch;
      };
    },
  });
  return batch;
}

async function execOnCluster(cluster: Cluster, queued: Queued[]): Promise<[Error | null, unknown][]> {
  const groups = new Map<string, number[]>();
  queued.forEach((command, i) => {
    const slot = keySlot(command.key);
    const node = cluster.slots[slot]?.join(';') ?? `slot ${slot}`;
    const group = groups.get(node);
    if (group) group.push(i);
    else groups.set(node, [i]);
  });
  const results: [Error | null, unknown][] = new Array(queued.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const pipeline = cluster.pipeline() as unknown as Record<string, (...args: unknown[]) => unknown> & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const i of indexes) pipeline[queued[i]!.name]!(...queued[i]!.args);
      let replies: [Error | null, unknown][];
      try {
        replies = (await pipeline.exec()) ?? [];
      } catch (error) {
        // The whole group failed (e.g. slots moved while it was built): every command of it failed.
        replies = indexes.map(() => [error as Error, null]);
      }
      indexes.forEach((i, j) => {
        results[i] = replies[j] ?? [new Error('no reply'), null];
      });
    }),
  );
  return results;
}

/**
 * Every key matching `pattern` (SCAN, so a shared Redis is not blocked; on a cluster, every
 * primary is scanned), in chunks handed to `each`.
 */
export async function scanKeys(
  redis: RedisClient,
  pattern: string,
  each: (keys: string[]) => Promise<void> | void,
): Promise<void> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length) await each(found);
    } while (cursor !== '0');
  }
}

/** Deletes `keys` (UNLINK; on a cluster one key per command, grouped per node). */
export async function unlinkKeys(redis: RedisClient, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  if (!isCluster(redis)) {
    await redis.unlink(...keys);
    return;
  }
  const batch = commandBatch(redis);
  for (const key of keys) batch.unlink(key);
  const failure = ((await batch.exec()) ?? []).find(([error]) => error);
  if (failure) throw failure[0];
}

/** Another connection like `redis` (its own socket), with `overrides` (e.g. `maxRetriesPerRequest: null` for a BullMQ worker). */
export function duplicateClient(redis: RedisClient, overrides: RedisOptions = {}): RedisClient {
  if (!isCluster(redis)) return redis.duplicate(overrides);
  return redis.duplicate([], { redisOptions: { ...redis.options.redisOptions, ...overrides } });
}

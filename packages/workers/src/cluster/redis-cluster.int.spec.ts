import { matchStream } from '@mm/contracts';
import {
  createQueueViewProjection,
  createQueueViewReader,
  diffQueueViews,
  dumpQueueViews,
  runProjection,
} from '@mm/projections';
import { isCluster, keySlot, redisKeys, scanKeys, unlinkKeys } from '@mm/redis';
import { type LocalRedisCluster, redisClusterToolsFound, startLocalRedisCluster } from '@mm/testing';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofType, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';

/*
 * The service on a real Redis Cluster (three primaries on 127.0.0.1:17000–17002, started and
 * stopped by infra/redis-cluster.sh): the projector writes the queue views, signals the pool
 * through BullMQ, a pairing worker takes the pool's lock and snapshot, commits the pair and the
 * game is created — every script and pipeline routed to the node of its keys' hash slot.
 */
const FIRST_PORT = 17000;
let local: LocalRedisCluster | undefined;
let stack: WorkerStack | undefined;

beforeAll(async () => {
  if (!redisClusterToolsFound) return;
  local = startLocalRedisCluster(FIRST_PORT);
  stack = await startWorkerStack({ REDIS_CLUSTER_NODES: local.nodes.join(',') });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  local?.stop();
});

/** The prefix's keys on each primary of the cluster. */
async function keysPerNode(cluster: Cluster, prefix: string): Promise<number[]> {
  return Promise.all(
    cluster.nodes('master').map(async (node) => {
      let count = 0;
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        count += found.length;
      } while (cursor !== '0');
      return count;
    }),
  );
}

describe.skipIf(!redisClusterToolsFound)('on Redis Cluster (needs redis-server and redis-cli on PATH)', () => {
  it('join → pairing → match → game: projector, BullMQ and the pairing worker on three primaries', async () => {
    const cluster = stack!.redis as unknown as Cluster;
    expect(isCluster(cluster)).toBe(true);
    await stack!.startWorkers();
    const e1 = await stack!.join('ann', 1500);
    const e2 = await stack!.join('bob', 1520);

    const created = await stack!.until(async () => ofType(await stack!.events(), 'GameCreated')[0], 'GameCreated');
    const match = ofType(await stack!.store.readStream(matchStream(created.data.matchId)), 'MatchCreated')[0]!.data;
    expect([match.white.queueEntryId, match.black.queueEntryId].sort()).toEqual([e1, e2].sort());
    await stack!.settle();

    // The views followed the match: the pool is empty again, each player's recent games name the other.
    const keys = redisKeys(stack!.prefix);
    const reader = createQueueViewReader(cluster, stack!.prefix);
    expect(await reader.size(TENANT, POOL.key)).toBe(0);
    expect(await reader.activePools()).toEqual([]);
    expect((await cluster.lrange(keys.recent(TENANT, 'ann'), 0, -1)).join()).toContain('bob');
    expect(await cluster.hget(keys.entry(TENANT, POOL.key, e1), 'status')).toBe('MATCHED');

    // The keys are spread over the cluster (pool, users, views and each queue by their own hash tag).
    const perNode = await keysPerNode(cluster, stack!.prefix);
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(
      new Set([keys.byTime(TENANT, POOL.key), keys.recent(TENANT, 'ann'), keys.checkpoint()].map(keySlot)).size,
    ).toBe(3);
  });

  it('a pool snapshot reads entries (pool slot) and recent games (user slots) on different nodes', async () => {
    const cluster = stack!.redis as unknown as Cluster;
    const e3 = await stack!.join('cid', 1500);
    await stack!.settle();
    const reader = createQueueViewReader(cluster, stack!.prefix);
    const { entries } = await reader.read(TENANT, POOL.key);
    expect(entries.map((e) => e.entryId)).toEqual([e3]);
    expect(await reader.activePools()).toEqual([{ tenantId: TENANT, poolKey: POOL.key }]);
    expect(await stack!.cancel('cid', e3)).toBe(true);
    await stack!.settle();
    expect(await reader.activePools()).toEqual([]);
  });

  it('the views rebuilt from the log on the cluster (scan of every primary, pipelines per node) equal the live ones', async () => {
    const cluster = stack!.redis as unknown as Cluster;
    const other = `${stack!.prefix}-rebuilt`;
    try {
      const run = await runProjection(stack!.store, createQueueViewProjection({ redis: cluster, prefix: other }));
      await run.caughtUp;
      await run.close();
      const live = await dumpQueueViews(cluster, stack!.prefix);
      expect(Object.keys(live).length).toBeGreaterThan(5);
      expect(diffQueueViews(await dumpQueueViews(cluster, other), live)).toEqual([]);
    } finally {
      await scanKeys(cluster, `${other}*`, (found) => unlinkKeys(cluster, found));
    }
  });
});

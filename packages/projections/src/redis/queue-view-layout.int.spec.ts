import { makePool, playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { QUEUE_VIEWS_LAYOUT, redisKeys } from '@mm/redis';
import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProjection } from '../runner/projection-runner.js';
import { diffQueueViews, dumpQueueViews } from './queue-view-dump.js';
import { createQueueViewProjection } from './queue-view-projection.js';

/*
 * The migration to another key layout (here: from layout 1, before the Redis Cluster layout, to
 * the current one) is a rebuild from the log: the projector finds no checkpoint of its layout,
 * deletes the keys of every layout (old ones included) and replays the log.
 */

let redis: Redis;
beforeAll(() => {
  redis = createTestRedis();
});
afterAll(() => redis?.disconnect());

const tenant = 't-layout';
const pool = makePool('3+0', 'rated');
const metadata = {
  tenantId: tenant,
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service' as const, id: 't' },
};

describe('queue views of an older key layout', () => {
  it('are deleted and rebuilt from the log in the current layout, equal to a fresh replay', async () => {
    const store = createMemoryEventStore();
    for (const userId of ['ann', 'bob', 'cid']) {
      const result = await handleCommand({
        store,
        streamName: playerStream(tenant, userId),
        decider: playerDecider,
        command: {
          type: 'JoinQueue',
          userId,
          queueEntryId: `e-${userId}`,
          pool,
          rating: 1500,
          ratingSource: 'default',
          ratingRange: null,
          now: new Date().toISOString(),
        },
        metadata,
      });
      expect(result.ok).toBe(true);
    }
    const head = (await store.readAll({ maxCount: 100 })).at(-1)!.position;
    const prefix = randomRedisPrefix('layout');
    const fresh = randomRedisPrefix('layout-fresh');
    // What a deployment of layout 1 left: its views, checkpoint and epoch (at the log's head, so
    // without a layout check it would resume from there), a lock and a wave anchor.
    const p = encodeURIComponent(pool.key);
    const layout1 = {
      [`${prefix}:q:${tenant}:${p}:t`]: ['zadd', 1000, 'e-ann'],
      [`${prefix}:q:${tenant}:${p}:r`]: ['zadd', 1500, 'e-ann'],
      [`${prefix}:q:${tenant}:${p}:gen`]: ['set', '3'],
      [`${prefix}:e:${tenant}:e-ann`]: ['hset', 'pos', '0', 'status', 'SEARCHING', 'pool', pool.key],
      [`${prefix}:u:${tenant}:ann:recent`]: ['rpush', '#1'],
      [`${prefix}:h:${tenant}:m:ann`]: ['set', ''],
      [`${prefix}:pools`]: ['sadd', JSON.stringify([tenant, pool.key])],
      [`${prefix}:projection:queue-views`]: ['set', String(head)],
      [`${prefix}:projection:queue-views:epoch`]: ['set', 'old-epoch'],
      [`${prefix}:lock:pairing:${tenant}:${p}`]: ['set', 'token'],
      [`${prefix}:wave:${tenant}:${p}`]: ['set', '123'],
    };
    const unrelated = `${prefix}:bull:{pairing}:pairing:meta`;
    try {
      for (const [key, [command, ...args]] of Object.entries(layout1))
        await (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[command as string]!.call(
          redis,
          key,
          ...args,
        );
      await redis.hset(unrelated, 'opts.maxLenEvents', '500');

      const projection = createQueueViewProjection({ redis, prefix });
      const run = await runProjection(store, projection);
      await run.caughtUp;
      await run.close();

      // No checkpoint of this layout: built from the log as on a first start, after deleting layout 1.
      for (const key of Object.keys(layout1)) expect(await redis.exists(key), key).toBe(0);
      expect(await redis.exists(unrelated)).toBe(1); // not a view: left alone
      const keys = redisKeys(prefix);
      expect(await redis.get(keys.layout())).toBe(String(QUEUE_VIEWS_LAYOUT));
      expect(await redis.zrange(keys.byTime(tenant, pool.key), '0', '-1')).toEqual(['e-ann', 'e-bob', 'e-cid']);

      const replay = await runProjection(store, createQueueViewProjection({ redis, prefix: fresh }));
      await replay.caughtUp;
      await replay.close();
      expect(diffQueueViews(await dumpQueueViews(redis, prefix), await dumpQueueViews(redis, fresh))).toEqual([]);

      // A build of this layout resumes from its checkpoint; one whose layout key says otherwise is rebuilt.
      const again = createQueueViewProjection({ redis, prefix });
      expect(await again.loadCheckpoint()).toBe(head);
      await redis.set(keys.layout(), String(QUEUE_VIEWS_LAYOUT + 1));
      expect(await createQueueViewProjection({ redis, prefix }).loadCheckpoint()).toBeUndefined();
    } finally {
      await deleteRedisPrefix(redis, prefix);
      await deleteRedisPrefix(redis, fresh);
    }
  });
});

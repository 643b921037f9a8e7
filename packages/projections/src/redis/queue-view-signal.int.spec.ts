import { makePool, playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueViewProjection } from './queue-view-projection.js';

let redis: Redis;
const prefix = randomRedisPrefix('signal');
const tenant = 't-signal';
const pool = makePool('5+0', 'rated');
const otherPool = makePool('10+0', 'casual');
const metadata = {
  tenantId: tenant,
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service' as const, id: 't' },
};

beforeAll(() => {
  redis = createTestRedis();
});
afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  redis?.disconnect();
});

describe('pool-changed signal of the queue views', () => {
  it('signals a pool only when an addition leaves two or more searching entries', async () => {
    const store: EventStore = createMemoryEventStore();
    const signals: string[] = [];
    const projection = createQueueViewProjection({
      redis,
      prefix,
      onPoolChanged: async (tenantId, poolKey) => {
        signals.push(`${tenantId}/${poolKey}`);
      },
    });
    let applied = (await projection.loadCheckpoint()) ?? -1;
    const step = async (userId: string, command: Parameters<typeof playerDecider.decide>[0]) => {
      const result = await handleCommand({
        store,
        streamName: playerStream(tenant, userId),
        decider: playerDecider,
        command,
        metadata,
      });
      if (!result.ok) throw new Error(result.error.code);
      const events = (await store.readAll({ maxCount: 100 })).filter((e) => e.position > applied);
      await projection.applyBatch(events);
      applied = events.at(-1)!.position;
      return signals.splice(0);
    };
    const join = (userId: string, entry: string, inPool = pool) =>
      step(userId, {
        type: 'JoinQueue',
        userId,
        queueEntryId: entry,
        pool: inPool,
        rating: 1500,
        ratingSource: 'default',
        ratingRange: null,
        now: new Date().toISOString(),
      });

    expect(await join('a', 'e-a')).toEqual([]); // alone: nobody to pair with
    expect(await join('b', 'e-b')).toEqual([`${tenant}/${pool.key}`]);
    expect(
      await step('b', { type: 'CancelQueueEntry', userId: 'b', queueEntryId: 'e-b', now: new Date().toISOString() }),
    ).toEqual([]); // a removal never creates a pair
    expect(await join('c', 'e-c')).toEqual([`${tenant}/${pool.key}`]);
    expect(await join('d', 'e-d', otherPool)).toEqual([]); // alone in its pool

    // a redelivered batch changes nothing and signals again (a crash may have lost the first
    // signal) — only the pool with a possible pair

    await projection.applyBatch(await store.readAll({ maxCount: 100 }));
    expect(signals.splice(0)).toEqual([`${tenant}/${pool.key}`]);
  });
});

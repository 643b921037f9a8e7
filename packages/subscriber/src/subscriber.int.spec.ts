import { randomUUID } from 'node:crypto';
import { makePool } from '@mm/contracts';
import type { EventData } from '@mm/event-store';
import { createPostgresEventStore, type PostgresEventStore } from '@mm/event-store/postgres';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventStoreSource } from './sources/event-store-source.js';
import { createSubscriber, type Handlers, type Subscriber } from './subscriber.js';

let events: TestSchema;
let consumer: TestSchema;
let store: PostgresEventStore;
beforeAll(async () => {
  events = await createTestSchema('sub_log');
  consumer = await createTestSchema('sub_consumer');
  store = await createPostgresEventStore({
    connectionString: events.connectionString,
    schema: events.schema,
    poolSize: 4,
  });
});
afterAll(async () => {
  await store?.close();
  await events?.drop();
  await consumer?.drop();
});

let tenant = '';
let run = 0;
beforeEach(async () => {
  run++;
  tenant = `t${run}-${randomUUID().slice(0, 8)}`;
  await consumer.pool.query(`CREATE TABLE IF NOT EXISTS "${consumer.schema}".joins (
    subscriber text NOT NULL, tenant text NOT NULL, user_id text NOT NULL, position bigint NOT NULL, rating int NOT NULL)`);
});

const joined = (userId: string, rating = 1500): EventData => ({
  id: randomUUID(),
  type: 'QueueJoined',
  data: {
    userId,
    queueEntryId: randomUUID(),
    pool: makePool('3+0', 'rated'),
    rating,
    ratingSource: 'default',
    ratingRange: null,
    enqueuedAt: new Date().toISOString(),
  },
  metadata: { tenantId: tenant, correlationId: randomUUID(), causationId: null, actor: { type: 'user', id: userId } },
});

/** Appends `count` QueueJoined events (user i has rating 1000 + i) and returns the last position. */
const appendJoins = async (count: number, from = 0): Promise<number> => {
  let last = -1;
  for (let i = from; i < from + count; i += 50) {
    const batch = Array.from({ length: Math.min(50, from + count - i) }, (_, k) => joined(`u${i + k}`, 1000 + i + k));
    last = (await store.appendToStream(`player-${tenant}:batch${i}`, batch)).position;
  }
  return last;
};

const subscriberName = () => `sub-${tenant}`;
/** Rows the handler wrote, by user, for this test's subscriber. */
const rows = async (name = subscriberName()) =>
  (
    await consumer.pool.query<{ user_id: string; n: string }>(
      `SELECT user_id, count(*) AS n FROM "${consumer.schema}".joins WHERE subscriber = $1 GROUP BY user_id`,
      [name],
    )
  ).rows;

const recordJoin =
  (name: string): NonNullable<Handlers['QueueJoined']> =>
  async (event, { client }) => {
    await client.query(
      `INSERT INTO "${consumer.schema}".joins (subscriber, tenant, user_id, position, rating) VALUES ($1, $2, $3, $4, $5)`,
      [name, event.tenantId, event.data.userId, event.position, event.data.rating],
    );
  };

const start = async (handlers: Handlers, retry = { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 }) => {
  const subscriber = createSubscriber({
    name: subscriberName(),
    source: eventStoreSource(store, { filter: { tenantId: tenant } }),
    db: consumer.pool,
    schema: consumer.schema,
    handlers,
    retry,
  });
  await subscriber.start();
  return subscriber;
};

describe('createSubscriber (event store source, checkpoints in the consumer database)', () => {
  it('applies every event once with typed data, and resumes from its checkpoint after a restart', async () => {
    const last = await appendJoins(120);
    const first = await start({ QueueJoined: recordJoin(subscriberName()) });
    await first.waitFor(last);
    await first.stop();
    expect(first.stats()).toMatchObject({ handled: 120, deadLettered: 0, position: last });
    const more = await appendJoins(30, 120);
    const second = await start({ QueueJoined: recordJoin(subscriberName()) });
    expect(second.stats().position).toBe(last); // from the stored checkpoint
    await second.waitFor(more);
    await second.stop();
    expect(second.stats().handled).toBe(30);
    const counts = await rows();
    expect(counts).toHaveLength(150);
    expect(counts.every((row) => row.n === '1')).toBe(true);
    expect(await second.lag()).toEqual({ events: 0, capped: false, seconds: 0 });
  });

  it('lag: events and seconds behind while stopped, 0 once caught up', async () => {
    const last = await appendJoins(10);
    const subscriber = createSubscriber({
      name: subscriberName(),
      source: eventStoreSource(store, { filter: { tenantId: tenant } }),
      db: consumer.pool,
      schema: consumer.schema,
      handlers: { QueueJoined: recordJoin(subscriberName()) },
    });
    const behind = await subscriber.lag();
    expect(behind.events).toBe(10);
    expect(behind.seconds).toBeGreaterThanOrEqual(0);
    await subscriber.start();
    await subscriber.waitFor(last);
    expect((await subscriber.lag()).events).toBe(0);
    await subscriber.stop();
  });

  it('a poison event is parked in the dead-letter table after N attempts and the stream moves on', async () => {
    const name = subscriberName();
    await appendJoins(5);
    // u-poison always fails; bad data (not the contract's) is parked at once.
    const poison = joined('u-poison');
    const bad = { ...joined('u-bad'), data: { userId: 'u-bad', rating: 'high' } };
    await store.appendToStream(`player-${tenant}:poison`, [poison, bad]);
    const last = await appendJoins(5, 5);
    const tries: Record<string, number> = {};
    const subscriber = await start({
      QueueJoined: async (event, context) => {
        tries[event.data.userId] = (tries[event.data.userId] ?? 0) + 1;
        if (event.data.userId === 'u-poison') {
          await recordJoin(name)(event, context); // written, then rolled back
          throw new Error('rating service says no');
        }
        await recordJoin(name)(event, context);
      },
    });
    await subscriber.waitFor(last);
    await subscriber.stop();
    expect(tries['u-poison']).toBe(3);
    expect(tries['u-bad']).toBeUndefined();
    const letters = await subscriber.deadLetters();
    expect(letters.map((l) => [l.eventId, l.type, l.attempts])).toEqual([
      [poison.id, 'QueueJoined', 3],
      [bad.id, 'QueueJoined', 1],
    ]);
    expect(letters[0]!.error).toMatch(/rating service says no/);
    expect(letters[1]!.error).toMatch(/INVALID_EVENT_DATA|invalid QueueJoined/);
    expect(letters[0]!.data).toEqual(poison.data);
    expect(subscriber.stats()).toMatchObject({ handled: 10, deadLettered: 2, retries: 2 });
    const users = (await rows()).map((row) => row.user_id).sort();
    expect(users).toEqual(Array.from({ length: 10 }, (_, i) => `u${i}`).sort());
  });

  it('exactly once: a handler that throws after writing, or whose connection dies mid-transaction, leaves no effect', async () => {
    const name = subscriberName();
    const last = await appendJoins(60);
    let killed = 0;
    const subscriber = await start(
      {
        QueueJoined: async (event, context) => {
          await recordJoin(name)(event, context);
          const n = Number(event.data.userId.slice(1));
          if (n % 7 === 0 && context.attempt === 1) throw new Error('crash after the write');
          if (n % 11 === 0 && context.attempt === 1 && killed < 3) {
            killed++;
            // The consumer "crashes" mid-transaction: its connection is gone, the transaction with it.
            await context.client.query('SELECT pg_terminate_backend(pg_backend_pid())');
          }
        },
      },
      { attempts: 5, initialDelayMs: 5, maxDelayMs: 20 },
    );
    await subscriber.waitFor(last);
    await subscriber.stop();
    expect(killed).toBe(3);
    const counts = await rows();
    expect(counts).toHaveLength(60);
    expect(counts.filter((row) => row.n !== '1')).toEqual([]);
    expect(subscriber.stats().deadLettered).toBe(0);
  });

  it('stopped mid-stream and restarted as two instances at once: every effect exactly once', async () => {
    const name = subscriberName();
    const last = await appendJoins(400);
    const slow: Handlers = {
      QueueJoined: async (event, context) => {
        await recordJoin(name)(event, context);
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
    };
    const first = await start(slow);
    while (first.stats().handled < 100) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.stop(); // mid-stream: the in-flight event's transaction finishes, nothing else starts
    const stoppedAt = first.stats().position;
    expect(stoppedAt).toBeLessThan(last);
    const [a, b] = await Promise.all([start(slow), start(slow)]);
    await Promise.all([a.waitFor(last), b.waitFor(last)]);
    await Promise.all([a.stop(), b.stop()]);
    const counts = await rows();
    expect(counts).toHaveLength(400);
    expect(counts.filter((row) => row.n !== '1')).toEqual([]);
    // The two instances took turns on the checkpoint row: what one applied, the other skipped.
    expect(first.stats().handled + a.stats().handled + b.stats().handled).toBe(400);
    expect(a.stats().duplicates + b.stats().duplicates).toBeGreaterThan(0);
  });

  it('refuses handlers for types the contracts do not have', () => {
    expect(() =>
      createSubscriber({
        name: 'x',
        source: eventStoreSource(store),
        db: consumer.pool,
        handlers: { NoSuchEvent: () => undefined } as unknown as Handlers,
      }),
    ).toThrow(/not an event type/);
  });
});

export type { Subscriber };

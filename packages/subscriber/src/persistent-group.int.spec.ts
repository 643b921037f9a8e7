import { randomUUID } from 'node:crypto';
import { makePool } from '@mm/contracts';
import type { EventData } from '@mm/event-store';
import { createEsdbEventStore, type EsdbEventStore } from '@mm/event-store/esdb';
import { type EsdbTestServer, startEsdbTestServer } from '@mm/event-store/esdb-test-server';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CompetingSource, SourceEvent } from './source.js';
import { persistentGroupSource } from './sources/persistent-group-source.js';
import { createSubscriber, type Handlers, type RetryOptions, type Subscriber } from './subscriber.js';

let server: EsdbTestServer;
let consumer: TestSchema;
let writer: EsdbEventStore;
const stores: EsdbEventStore[] = [];
const newStore = () => {
  const store = createEsdbEventStore({ connectionString: server.url, reconnect: { initialDelayMs: 20 } });
  stores.push(store);
  return store;
};

beforeAll(async () => {
  server = await startEsdbTestServer();
  consumer = await createTestSchema('sub_pgroup');
  writer = newStore();
  await consumer.pool.query(`CREATE TABLE "${consumer.schema}".joins (
    subscriber text NOT NULL, instance text NOT NULL, user_id text NOT NULL, position bigint NOT NULL)`);
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await server?.stop();
  await consumer?.drop();
});

let tenant = '';
beforeEach(() => {
  tenant = `t-${randomUUID().slice(0, 8)}`;
});

const joined = (userId: string): EventData => ({
  id: randomUUID(),
  type: 'QueueJoined',
  data: {
    userId,
    queueEntryId: randomUUID(),
    pool: makePool('3+0', 'rated'),
    rating: 1500,
    ratingSource: 'default',
    ratingRange: null,
    enqueuedAt: new Date().toISOString(),
  },
  metadata: { tenantId: tenant, correlationId: randomUUID(), causationId: null, actor: { type: 'user', id: userId } },
});

const appendJoins = async (count: number, from = 0) => {
  for (let i = from; i < from + count; i++) await writer.appendToStream(`player-${tenant}:${i}`, [joined(`u${i}`)]);
};

/** Rows the handlers wrote for this test, by user. */
const rows = async () =>
  (
    await consumer.pool.query<{ user_id: string; instance: string; n: string }>(
      `SELECT user_id, instance, count(*) OVER (PARTITION BY user_id) AS n FROM "${consumer.schema}".joins WHERE subscriber = $1`,
      [tenant],
    )
  ).rows;

const recordJoin =
  (instance: string, before?: (userId: string) => Promise<void> | void): NonNullable<Handlers['QueueJoined']> =>
  async (event, { client }) => {
    await before?.(event.data.userId);
    await client.query(
      `INSERT INTO "${consumer.schema}".joins (subscriber, instance, user_id, position) VALUES ($1, $2, $3, $4)`,
      [tenant, instance, event.data.userId, event.position],
    );
  };

const eventually = async (check: () => Promise<void> | void, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
};

const start = async (
  instance: string,
  options: { before?: (userId: string) => Promise<void> | void; retry?: RetryOptions; bufferSize?: number } = {},
): Promise<Subscriber> => {
  const subscriber = createSubscriber({
    name: tenant,
    source: persistentGroupSource({
      store: newStore(),
      group: `group-${tenant}`,
      filter: { tenantId: tenant },
      bufferSize: options.bufferSize ?? 4,
    }),
    db: consumer.pool,
    schema: consumer.schema,
    handlers: { QueueJoined: recordJoin(instance, options.before) },
    retry: options.retry ?? { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
  });
  await subscriber.start();
  return subscriber;
};

describe('createSubscriber with persistentGroupSource (EventStoreDB consumer group, protocol test server)', () => {
  it('two consumers in one group: every event handled exactly once in total, split between them', async () => {
    await appendJoins(30);
    const slow = () => new Promise<void>((resolve) => setTimeout(resolve, 2));
    const a = await start('a', { before: slow });
    const b = await start('b', { before: slow });
    await appendJoins(10, 30); // live events too
    await eventually(async () => expect(await rows()).toHaveLength(40));
    await eventually(() => expect(a.stats().handled + b.stats().handled).toBe(40));
    const all = await rows();
    expect(new Set(all.map((row) => row.user_id)).size).toBe(40);
    expect(all.every((row) => row.n === '1')).toBe(true);
    expect(a.stats().handled).toBeGreaterThan(0);
    expect(b.stats().handled).toBeGreaterThan(0);
    await a.stop();
    await b.stop();
  });

  it('a consumer that stops mid-way: its unacked events go to the other one, each applied once', async () => {
    await appendJoins(12);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // `a` takes 4 events (its buffer) and is stuck in the first one's handler.
    const a = await start('a', { before: () => gate, bufferSize: 4 });
    const group = () => server.persistentGroup('$all', `group-${tenant}`);
    await eventually(() => expect(group()?.inFlight.size).toBe(4));
    const b = await start('b', { bufferSize: 4 });
    await eventually(async () => expect(await rows()).toHaveLength(8));
    // `a` goes away: it finishes the event in hand; the 3 it never started go back to the group.
    const stopping = a.stop();
    release();
    await stopping;
    await eventually(async () => expect(await rows()).toHaveLength(12));
    const all = await rows();
    expect(all.every((row) => row.n === '1')).toBe(true);
    expect(all.filter((row) => row.instance === 'a')).toHaveLength(1);
    expect(all.filter((row) => row.instance === 'b')).toHaveLength(11);
    expect(group()!.deliveries.filter((d) => d.retryCount === 1)).toHaveLength(3);
    expect(a.stats().handled + b.stats().handled).toBe(12);
    await b.stop();
  });

  it('a failing handler: its event is retried (nack) then dead-lettered, and the stream goes on', async () => {
    await appendJoins(5);
    const tries: string[] = [];
    const a = await start('a', {
      before: (userId) => {
        if (userId === 'u2') {
          tries.push(userId);
          throw new Error('poison');
        }
      },
      retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 10 },
    });
    await eventually(async () => expect(await a.deadLetters()).toHaveLength(1));
    await eventually(async () => expect(await rows()).toHaveLength(4));
    const [dead] = await a.deadLetters();
    expect(dead!.attempts).toBe(3);
    expect(dead!.error).toContain('poison');
    expect(tries).toHaveLength(3);
    const group = server.persistentGroup('$all', `group-${tenant}`)!;
    const poisonDeliveries = group.deliveries.filter((d) => d.eventId === dead!.eventId);
    expect(poisonDeliveries.map((d) => d.retryCount)).toEqual([0, 1, 2]);
    await eventually(() => expect(group.acked.has(dead!.eventId)).toBe(true));
    expect(a.stats().deadLettered).toBe(1);
    expect(a.stats().retries).toBe(2);
    expect((await rows()).map((row) => row.user_id).sort()).toEqual(['u0', 'u1', 'u3', 'u4']);
    await a.stop();
  });

  it('an event delivered twice (at least once) is applied once: the processed table dedups', async () => {
    const event: SourceEvent = {
      position: 42,
      id: randomUUID(),
      type: 'QueueJoined',
      schemaVersion: 1,
      stream: `player-${tenant}:x`,
      data: joined('dup').data,
      metadata: { tenantId: tenant },
      recordedAt: new Date(),
    };
    const source: CompetingSource = {
      kind: 'test',
      competing: true,
      async consume(_filter, deliver, signal) {
        await Promise.all([deliver(event, { retryCount: 0 }), deliver(event, { retryCount: 1 })]);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const subscriber = createSubscriber({
      name: tenant,
      source,
      db: consumer.pool,
      schema: consumer.schema,
      handlers: { QueueJoined: recordJoin('a') },
    });
    await subscriber.start();
    await eventually(() => expect(subscriber.stats().handled + subscriber.stats().duplicates).toBe(2));
    expect(subscriber.stats().handled).toBe(1);
    expect(await rows()).toHaveLength(1);
    await subscriber.stop();
  });
});

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEventStoreContract, eventually, readAllPages, sampleEvent } from '../testing/index.js';
import type { RecordedEvent } from '../types.js';
import { migrateEventStore } from './migrate.js';
import { createPostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store.js';
import { quoteIdentifier } from './sql.js';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const schema = `es_test_${randomBytes(6).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await migrateEventStore({ connection: url, schema });
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
});

const open = (options: Partial<PostgresEventStoreOptions> = {}) =>
  createPostgresEventStore({ connectionString: url, schema, poolSize: 12, ...options });

describeEventStoreContract(
  'postgres',
  async () => {
    const store = await open();
    return { store, teardown: () => store.close() };
  },
  { multiStreamAppend: true },
);

// The same contract with every held-back page read again at once with the appending
// transactions' horizon (migration 1700000000009): ordering, exactly-once delivery under 8
// concurrent writers and the rest must hold on that path too.
describeEventStoreContract(
  "postgres, appenders' horizon at once",
  async () => {
    const store = await open({ appenderHorizonAfterMs: 0 });
    return { store, teardown: () => store.close() };
  },
  { multiStreamAppend: true },
);

/** A live subscription to one category, caught up; what it delivered so far in `seen`. */
const watchCategory = async (store: Awaited<ReturnType<typeof open>>, category: string) => {
  const seen: RecordedEvent[] = [];
  const subscription = store.subscribeToAll({ filter: { categories: [category] }, handler: (e) => void seen.push(e) });
  await subscription.caughtUp;
  return { seen, subscription };
};

describe('postgres event store', () => {
  it('migrations are idempotent and recorded in their own table', async () => {
    await migrateEventStore({ connection: url, schema });
    const result = await admin.query(`SELECT name FROM ${quoteIdentifier(schema)}.event_store_migrations`);
    expect(result.rows.map((row) => row.name)).toEqual([
      '1700000000000_create-events',
      '1700000000001_append-to-streams',
      '1700000000002_events-tenant-index',
      '1700000000003_partitioned-compact-events',
      '1700000000004_events-data-json',
      '1700000000005_partition-lock-timeout',
      '1700000000006_events-data-deflate',
      '1700000000007_events-stream-key-actors',
      '1700000000008_append-last-revision',
      '1700000000009_delivery-horizon-appenders',
      '1700000000010_delivery-horizon-own-schema',
    ]);
  });

  it('does not deliver past an open transaction; delivers it and everything after once it commits', async () => {
    const store = await open({ readAllSettleMs: 200 });
    const category = `late${randomBytes(4).toString('hex')}`;
    const late = new pg.Client({ connectionString: url });
    await late.connect();
    try {
      const { seen, subscription } = await watchCategory(store, category);
      const early = await store.appendToStream(`${category}-early`, [sampleEvent()]);
      await eventually(() => expect(seen).toHaveLength(1));

      // T1 appends (and so takes its transaction id) first, but does not commit.
      await late.query('BEGIN');
      const t1Event = sampleEvent('Late');
      const t1 = await late.query(
        `SELECT last_position FROM ${quoteIdentifier(schema)}.append_events($1, -2, $2::jsonb)`,
        [`${category}-t1`, JSON.stringify([t1Event])],
      );
      const t1Position = Number(t1.rows[0].last_position);
      // T2 commits after T1 started: its position is larger than T1's.
      const t2 = await store.appendToStream(`${category}-t2`, [sampleEvent('AfterLate')]);
      expect(t2.position).toBeGreaterThan(t1Position);
      expect(t1Position).toBeGreaterThan(early.position);

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen.map((event) => event.position)).toEqual([early.position]);
      expect(subscription.lastPosition).toBeLessThan(t1Position);
      const visible = await store.readAll({ after: early.position - 1, filter: { categories: [category] } });
      expect(visible.map((event) => event.position)).toEqual([early.position]);

      await late.query('COMMIT');
      await eventually(() => expect(seen).toHaveLength(3));
      expect(seen.map((event) => event.position)).toEqual([early.position, t1Position, t2.position]);
      expect(seen[1]!.id).toBe(t1Event.id);
      const log = await readAllPages(store, { filter: { categories: [category] } });
      expect(log.map((event) => event.position)).toEqual(seen.map((event) => event.position));
    } finally {
      await late.query('ROLLBACK').catch(() => undefined);
      await late.end();
      await store.close();
    }
  });

  it('a long transaction that appends nothing (here: in another database) holds readers back only briefly', async () => {
    const store = await open({ readAllSettleMs: 5000 });
    const category = `busy${randomBytes(4).toString('hex')}`;
    const other = new pg.Client({ connectionString: url.replace(/\/[^/?]+(\?|$)/, '/postgres$1') });
    await other.connect();
    try {
      const { seen, subscription } = await watchCategory(store, category);
      // A write transaction elsewhere on the cluster: the oldest running transaction from now on.
      await other.query('BEGIN');
      await other.query('CREATE TEMP TABLE busy (x int)');
      await other.query('INSERT INTO busy VALUES (1)');
      const appended = await store.appendToStream(`${category}-a`, [sampleEvent()]);
      const started = Date.now();
      await eventually(() => expect(seen.map((e) => e.position)).toEqual([appended.position]), 3000);
      const subscriptionMs = Date.now() - started;
      const readStarted = Date.now();
      const read = await store.readAll({ after: appended.position - 1, filter: { categories: [category] } });
      const readMs = Date.now() - readStarted;
      expect(read.map((e) => e.position)).toEqual([appended.position]);
      // Held back by the snapshot's horizon for ~50 ms, then read with the appenders' horizon
      // (the open transaction would otherwise hold them until it ends: never, in this test).
      expect(subscriptionMs).toBeLessThan(2000);
      expect(readMs).toBeLessThan(2000);
      process.stderr.write(
        `delivered past a foreign open transaction: subscription ${subscriptionMs} ms, readAll ${readMs} ms\n`,
      );
      await subscription.close();
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
      await store.close();
    }
  });

  it("an open append to another schema's log in the same database holds readers back only briefly", async () => {
    const otherSchema = `es_other_${randomBytes(6).toString('hex')}`;
    // The other event store as its adapter leaves it (migrated, with partitions).
    await (await createPostgresEventStore({ connectionString: url, schema: otherSchema, poolSize: 1 })).close();
    const store = await open({ readAllSettleMs: 5000 });
    const category = `near${randomBytes(4).toString('hex')}`;
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      const { seen, subscription } = await watchCategory(store, category);
      // Another event store's append, left open: it holds the appenders' lock space and its xid.
      await other.query('BEGIN');
      await other.query(`SELECT last_position FROM ${quoteIdentifier(otherSchema)}.append_events($1, -2, $2::jsonb)`, [
        `${category}-elsewhere`,
        JSON.stringify([sampleEvent()]),
      ]);
      const appended = await store.appendToStream(`${category}-a`, [sampleEvent()]);
      const started = Date.now();
      await eventually(() => expect(seen.map((e) => e.position)).toEqual([appended.position]), 3000);
      const subscriptionMs = Date.now() - started;
      const read = await store.readAll({ after: appended.position - 1, filter: { categories: [category] } });
      expect(read.map((e) => e.position)).toEqual([appended.position]);
      expect(subscriptionMs).toBeLessThan(2000);
      process.stderr.write(`delivered past another schema's open append: subscription ${subscriptionMs} ms\n`);
      await subscription.close();
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(otherSchema)} CASCADE`);
    }
  });

  it('positions follow the transaction order; several appends in one transaction get consecutive indexes', async () => {
    const store = await open();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const category = `tx${randomBytes(4).toString('hex')}`;
      await client.query('BEGIN');
      const append = (stream: string, count: number) =>
        client.query(`SELECT last_position FROM ${quoteIdentifier(schema)}.append_events($1, -2, $2::jsonb)`, [
          stream,
          JSON.stringify(Array.from({ length: count }, () => sampleEvent())),
        ]);
      const a = Number((await append(`${category}-a`, 2)).rows[0].last_position);
      const b = Number((await append(`${category}-b`, 3)).rows[0].last_position);
      const xid = Number((await client.query('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid);
      await client.query('COMMIT');
      expect(a).toBe(xid * 65536 + 1);
      expect(b).toBe(xid * 65536 + 4);
      const log = await store.readAll({ filter: { categories: [category] } });
      expect(log.map((event) => event.position - xid * 65536)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await client.end();
      await store.close();
    }
  });

  it('a multi-stream append that deadlocks with another transaction is run again, not failed', async () => {
    const store = await open();
    const category = `dl${randomBytes(4).toString('hex')}`;
    const [x, y] = [`${category}-x`, `${category}-y`];
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      // The other transaction holds y's first revision uncommitted…
      await other.query('BEGIN');
      const appendSql = `SELECT last_position FROM ${quoteIdentifier(schema)}.append_events($1, -2, $2::jsonb, false, false)`;
      await other.query(appendSql, [y, JSON.stringify([sampleEvent('OtherY')])]);
      // …the store's append writes x, then waits for y…
      const pending = store.appendToStreams!([
        { streamName: x, events: [sampleEvent('OursX')] },
        { streamName: y, events: [sampleEvent('OursY')] },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // …and the other one now wants x: a deadlock. PostgreSQL rolls back the one that waited
      // longest (ours); its retry waits for the other to commit, then appends after it.
      const otherX = other.query(appendSql, [x, JSON.stringify([sampleEvent('OtherX')])]);
      await otherX;
      await other.query('COMMIT');
      const results = await pending;
      expect(results.map((result) => result.nextExpectedRevision)).toEqual([1, 1]);
      expect((await store.readStream(x)).map((event) => event.type)).toEqual(['OtherX', 'OursX']);
      expect((await store.readStream(y)).map((event) => event.type)).toEqual(['OtherY', 'OursY']);
    } finally {
      await other.end();
      await store.close();
    }
  }, 20_000);

  it('wakes subscriptions through LISTEN/NOTIFY well before the safety poll', async () => {
    const store = await open({ idlePollMs: 5000 });
    try {
      const category = `live${randomBytes(4).toString('hex')}`;
      const deliveredAt: number[] = [];
      const subscription = store.subscribeToAll({
        filter: { categories: [category] },
        handler: () => void deliveredAt.push(Date.now()),
      });
      await subscription.caughtUp;
      await eventually(() => expect(store.listener.listening).toBe(true));
      // Let the subscription settle into its idle wait.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const latencies: number[] = [];
      for (let round = 0; round < 5; round++) {
        const start = Date.now();
        await store.appendToStream(`${category}-1`, [sampleEvent()]);
        await eventually(() => expect(deliveredAt).toHaveLength(round + 1), 6000);
        latencies.push(deliveredAt[round]! - start);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(Math.max(...latencies)).toBeLessThan(1000);
    } finally {
      await store.close();
    }
  });

  it('reconnects its LISTEN connection and keeps delivering live events', async () => {
    const store = await open({ idlePollMs: 10_000 });
    try {
      const category = `rc${randomBytes(4).toString('hex')}`;
      const { seen } = await watchCategory(store, category);
      await eventually(() => expect(store.listener.listening).toBe(true));
      await store.listener.dropConnectionForTest();
      await eventually(() => expect(store.listener.listening).toBe(false));
      await eventually(() => expect(store.listener.listening).toBe(true));
      await store.appendToStream(`${category}-1`, [sampleEvent()]);
      await eventually(() => expect(seen).toHaveLength(1), 3000);
    } finally {
      await store.close();
    }
  });

  it('a subscription survives pg_terminate_backend of its connections (mid-read) and resumes from its position', async () => {
    const applicationName = `es-test-${randomBytes(4).toString('hex')}`;
    const store = await open({ applicationName, idlePollMs: 30, poolSize: 3 });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      const category = `kill${randomBytes(4).toString('hex')}`;
      const seen: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribeToAll({
        filter: { categories: [category] },
        handler: (e) => void seen.push(e),
        onError: (e) => errors.push(e),
      });
      await store.appendToStream(`${category}-1`, [sampleEvent('Before')]);
      await eventually(() => expect(seen).toHaveLength(1));
      await eventually(() => expect(store.listener.listening).toBe(true));
      // Hold the subscription's next read in flight (blocked on a lock), then kill every
      // connection of the store: the read fails with 57P01 on the server's side.
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${quoteIdentifier(schema)}.events IN ACCESS EXCLUSIVE MODE`);
      await eventually(async () => {
        const waiting = await admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [applicationName],
        );
        expect(waiting.rows[0].n).toBeGreaterThan(0);
      });
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(2); // the blocked reader and the LISTEN connection
      await locker.query('ROLLBACK');

      await eventually(() => expect(store.listener.listening).toBe(true));
      const writer = await open(); // appends through another store: only the subscription is under test
      try {
        await writer.appendToStream(`${category}-1`, [sampleEvent('After1')]);
        await writer.appendToStream(`${category}-2`, [sampleEvent('After2')]);
      } finally {
        await writer.close();
      }
      await eventually(() => expect(seen.map((e) => e.type)).toEqual(['Before', 'After1', 'After2']), 5000);
      expect(errors).toEqual([]);
      expect(subscription.lastPosition).toBe(seen.at(-1)!.position);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await store.close();
    }
  });

  it('close() does not hang with live subscriptions and a busy handler', async () => {
    const store = await open();
    const category = `cl${randomBytes(4).toString('hex')}`;
    await store.appendToStream(`${category}-1`, [sampleEvent()]);
    const subscription = store.subscribeToAll({
      filter: { categories: [category] },
      handler: () => new Promise((resolve) => setTimeout(resolve, 100)),
    });
    store.subscribeToAll({ handler: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await store.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await subscription.done;
    await expect(store.ping()).rejects.toThrow(/closed/);
  });

  it('works on a pool it does not own and leaves that pool open', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    try {
      const store = await createPostgresEventStore({ pool, schema });
      await store.ping();
      await store.appendToStream(`pool${randomBytes(3).toString('hex')}-1`, [sampleEvent()]);
      await store.close();
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

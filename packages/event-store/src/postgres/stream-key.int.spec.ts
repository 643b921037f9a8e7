import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventIdConflictError, isWrongExpectedRevision } from '../errors.js';
import type { EventData, EventStore } from '../types.js';
import { migrateEventStore } from './migrate.js';
import { createPostgresEventStore } from './postgres-event-store.js';
import { quoteIdentifier } from './sql.js';
import { packageMigrationsDir, runSqlMigrations } from './sql-migrations.js';

/*
 * Migration 1700000000007: the stream name stored as category id + key (or uuid), service and
 * system actor ids referenced. Names of every shape read back as written; a database of the
 * previous schema migrates with its rows, partitions and the event_log view unchanged.
 */

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const schemas: string[] = [];
const dirs: string[] = [];
let admin: pg.Pool;

const newSchema = () => {
  const schema = `es_key_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  return schema;
};

beforeAll(() => {
  admin = new pg.Pool({ connectionString: url, max: 2 });
});

afterAll(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

type Actor = { type: 'user' | 'service' | 'system'; id: string } | Record<string, unknown> | undefined;

const event = (type: string, actor: Actor, extra: Record<string, unknown> = {}): EventData => ({
  id: randomUUID(),
  type,
  data: { n: Math.random(), s: 'x'.repeat(40) },
  metadata: {
    tenantId: 't1',
    correlationId: randomUUID(),
    causationId: null,
    ...(actor === undefined ? {} : { actor }),
    ...extra,
  } as EventData['metadata'],
});

const uuid = randomUUID();
/** Every shape of name: the category alone, an empty key, a key with '-', UUIDs canonical or not. */
const NAMES = [
  'player-t1:u1',
  `match-${uuid}`,
  `challenge-${uuid}`,
  `match-${uuid.toUpperCase()}`,
  `match-${uuid}x`,
  `match-{${uuid}}`,
  'pool',
  'pool-',
  'pool-t1:3+0:rated',
  'player-t1:u1-2',
  'a--b',
  '-x',
  'ä-ö',
];

const ACTORS: Actor[] = [
  { type: 'user', id: 'u1' },
  { type: 'service', id: 'matchmaking-worker' },
  { type: 'system', id: 'challenge-worker' },
  undefined,
  { type: 'service', id: 'w', note: 'an extra key: kept as JSON' },
  { type: 'robot', id: 'r2' },
];

/** The metadata the store returns: what was written, actor included. */
const metadataOf = (e: EventData) => e.metadata;

describe('stream names and actors in columns (1700000000007)', () => {
  it('reads every stream name back as written, finds each stream apart from its look-alikes', async () => {
    const schema = newSchema();
    const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2 });
    try {
      const written = new Map<string, EventData[]>();
      for (const [i, name] of NAMES.entries()) {
        const events = [event('A', ACTORS[i % ACTORS.length]), event('B', ACTORS[(i + 1) % ACTORS.length])];
        await store.appendToStream(name, events, { expectedRevision: 'no_stream' });
        written.set(name, events);
      }
      for (const name of NAMES) {
        const events = written.get(name)!;
        const forwards = await store.readStream(name);
        expect(forwards.map((e) => [e.streamName, e.revision, e.id, e.metadata])).toEqual(
          events.map((e, revision) => [name, revision, e.id, metadataOf(e)]),
        );
        const backwards = await store.readStream(name, { direction: 'backwards', maxCount: 1 });
        expect(backwards.map((e) => e.id)).toEqual([events[1]!.id]);
        expect(await store.streamRevision(name)).toBe(1);
        // Appends go on at the stream's own revision (its look-alikes have theirs).
        await store.appendToStream(name, [event('C', ACTORS[1])], { expectedRevision: 1 });
      }
      expect(await store.streamRevision('match-0')).toBe('no_stream');
      expect(await store.streamRevision('nocategory-x')).toBe('no_stream');
      const { rows } = await admin.query<{ stream_name: string; n: string }>(
        `SELECT stream_name, count(*)::text AS n FROM ${quoteIdentifier(schema)}.event_log GROUP BY 1 ORDER BY stream_name COLLATE "C"`,
      );
      expect(rows).toEqual([...NAMES].sort(byCodePoint).map((name) => ({ stream_name: name, n: '3' })));
      // What is stored: a canonical UUID as uuid, service and system actor ids referenced.
      const stored = await admin.query<{ key: string | null; uuid: string | null; actor_ids: number }>(
        `SELECT stream_key AS key, stream_uuid::text AS uuid,
                count(*) FILTER (WHERE actor_id IS NOT NULL)::int AS actor_ids
           FROM ${quoteIdentifier(schema)}.events
          WHERE category_id = (SELECT id FROM ${quoteIdentifier(schema)}.event_categories WHERE name = 'match')
            AND actor_type = 's' GROUP BY 1, 2 ORDER BY 1 NULLS FIRST`,
      );
      expect(stored.rows[0]).toEqual({ key: null, uuid, actor_ids: 0 });
      const actors = await admin.query(`SELECT name FROM ${quoteIdentifier(schema)}.event_actors ORDER BY name`);
      expect(actors.rows.map((r) => r.name)).toEqual(['challenge-worker', 'matchmaking-worker']);
    } finally {
      await store.close();
    }
  });

  it('reads and appends in revision order past 2^31 - 1, where the index key of the revision stops growing', async () => {
    const schema = newSchema();
    const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2 });
    try {
      await store.appendToStream('big-1', [event('A', ACTORS[0])]);
      await store.appendToStream('big-2', [event('A', ACTORS[0])]);
      // As if 2^31 - 1 events had come before (a pool stream appended to for years).
      await admin.query(`UPDATE ${quoteIdentifier(schema)}.events SET revision = 2147483646 WHERE stream_key = '1'`);
      expect(await store.streamRevision('big-1')).toBe(2147483646);
      const more = [event('B', ACTORS[1]), event('C', ACTORS[1]), event('D', ACTORS[1])];
      for (const e of more) {
        const revision = (await store.streamRevision('big-1')) as number;
        await store.appendToStream('big-1', [e], { expectedRevision: revision });
      }
      expect(await store.streamRevision('big-1')).toBe(2147483649);
      await expect(
        store.appendToStream('big-1', [event('E', ACTORS[1])], { expectedRevision: 2147483648 }),
      ).rejects.toSatisfy(isWrongExpectedRevision);
      const forwards = await store.readStream('big-1', { fromRevision: 2147483647 });
      expect(forwards.map((e) => [e.revision, e.type])).toEqual([
        [2147483647, 'B'],
        [2147483648, 'C'],
        [2147483649, 'D'],
      ]);
      const backwards = await store.readStream('big-1', { direction: 'backwards', maxCount: 2 });
      expect(backwards.map((e) => e.revision)).toEqual([2147483649, 2147483648]);
      const from = await store.readStream('big-1', { direction: 'backwards', fromRevision: 2147483648 });
      expect(from.map((e) => e.revision)).toEqual([2147483648, 2147483647, 2147483646]);
      expect((await store.readStream('big-2')).map((e) => e.revision)).toEqual([0]);
    } finally {
      await store.close();
    }
  });

  it('keeps actor ids inline once the actor ids are used up', async () => {
    const schema = newSchema();
    const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2 });
    try {
      await admin.query(`SELECT setval('${quoteIdentifier(schema)}.event_actors_id_seq', 32767)`);
      const events = [event('A', { type: 'service', id: 'late-service' }), event('A', { type: 'service', id: 'x' })];
      await store.appendToStream('s-1', events);
      expect((await store.readStream('s-1')).map((e) => e.metadata)).toEqual(events.map(metadataOf));
      const { rows } = await admin.query(
        `SELECT actor_id, actor_ref FROM ${quoteIdentifier(schema)}.events ORDER BY position`,
      );
      expect(rows).toEqual([
        { actor_id: 'late-service', actor_ref: null },
        { actor_id: 'x', actor_ref: null },
      ]);
    } finally {
      await store.close();
    }
  });

  it('migrates a database of 1700000000006: same rows in the same partitions, event_log unchanged, streams go on', async () => {
    const schema = newSchema();
    const s = quoteIdentifier(schema);
    const oldDir = await mkdtemp(join(tmpdir(), 'mm-es-key-'));
    dirs.push(oldDir);
    const all = (await readdir(packageMigrationsDir(import.meta.url))).sort();
    for (const file of all.filter((f) => f < '1700000000007'))
      await copyFile(join(packageMigrationsDir(import.meta.url), file), join(oldDir, file));
    await runSqlMigrations({ connection: url, schema, dir: oldDir, table: 'event_store_migrations' });

    // Partitions of 40 transaction ids; rows in more than one.
    await admin.query(`SELECT ${s}.ensure_event_partitions('1 day', 40)`);
    const append = async (name: string, events: unknown[], expected = -2) =>
      admin.query(`SELECT * FROM ${s}.append_events($1, $2, $3::json)`, [name, expected, JSON.stringify(events)]);
    // One compressed row, as 1700000000006's writers store it (`z` + `d`).
    const dictionary = Buffer.from('{"pool":"3+0:rated","rating":1500}');
    const { rows: dict } = await admin.query<{ id: number }>(
      `INSERT INTO ${s}.event_data_dictionaries (type_id, schema_version, dictionary)
       VALUES (${s}.event_type_id('Zipped'), 1, $1) RETURNING id`,
      [dictionary],
    );
    const zipped = event('Zipped', { type: 'service', id: 'matchmaking-worker' });
    const z = deflateRawSync(Buffer.from(JSON.stringify(zipped.data)), { dictionary }).toString('base64');
    const written: { name: string; event: EventData }[] = [];
    for (const [i, name] of NAMES.entries()) {
      const e = event(
        i % 2 ? 'QueueJoined' : 'MatchCreated',
        ACTORS[i % ACTORS.length],
        i === 3 ? { traceId: 'x' } : {},
      );
      if (i === 4) e.metadata.correlationId = 'req-not-a-uuid';
      if (i === 5) e.metadata.causationId = randomUUID();
      await append(name, [{ ...e, schemaVersion: i === 6 ? 2 : 1 }]);
      written.push({ name, event: e });
      if (i === 6) {
        for (let n = 0; n < 45; n++) await admin.query('SELECT pg_current_xact_id()');
        await admin.query(`SELECT ${s}.ensure_event_partitions('1 day', 40)`);
      }
    }
    await append(NAMES[1]!, [
      { id: zipped.id, type: 'Zipped', schemaVersion: 1, z, d: dict[0]!.id, metadata: zipped.metadata },
    ]);

    const view = `SELECT position, stream_name, category, revision, id, type, schema_version, data::text AS data,
                         metadata, recorded_at, data_dictionary_id, data_deflated
                    FROM ${s}.event_log ORDER BY position`;
    const partitions = `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound,
                               (SELECT count(*) FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                                 WHERE x.indrelid = c.oid AND ic.relname = c.relname || '_id_key' AND x.indisunique)::int AS id_key
                          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                         WHERE i.inhparent = '${s}.events'::regclass ORDER BY 1`;
    const before = (await admin.query(view)).rows;
    const partitionsBefore = (await admin.query(partitions)).rows;
    expect(before).toHaveLength(NAMES.length + 1);
    const used = await admin.query(`SELECT count(DISTINCT tableoid)::int AS n FROM ${s}.events`);
    expect(used.rows[0].n).toBeGreaterThan(1);

    await migrateEventStore({ connection: url, schema });
    expect((await admin.query(view)).rows).toEqual(before);
    expect((await admin.query(partitions)).rows).toEqual(partitionsBefore);
    expect(partitionsBefore.every((p) => p.id_key === 1)).toBe(true);
    const tables = await admin.query(
      `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%v6%'`,
      [schema],
    );
    expect(tables.rows).toEqual([]);

    let store: EventStore | undefined;
    try {
      store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2, migrate: false });
      for (const { name, event: e } of written) {
        const [read] = await store.readStream(name, { maxCount: 1 });
        expect(read).toMatchObject({ streamName: name, revision: 0, id: e.id, type: e.type, data: e.data });
        expect(read!.metadata).toEqual(e.metadata);
      }
      const [, zippedRead] = await store.readStream(NAMES[1]!);
      expect(zippedRead).toMatchObject({ id: zipped.id, data: zipped.data, metadata: zipped.metadata });
      // Revisions go on; a replay of an append from before the migration is still recognised by its ids.
      const { event: first } = written[0]!;
      expect(await store.appendToStream(NAMES[0]!, [first], { expectedRevision: 'no_stream' })).toEqual({
        nextExpectedRevision: 0,
        position: Number(before[0].position),
      });
      // An id stored in another stream (checked on the path an unmet expectation takes: every partition).
      await expect(store.appendToStream('match-0', [first], { expectedRevision: 'stream_exists' })).rejects.toSatisfy(
        (error) => error instanceof EventIdConflictError,
      );
      expect(
        (await store.appendToStream(NAMES[1]!, [event('GameCreated', ACTORS[1])], { expectedRevision: 1 }))
          .nextExpectedRevision,
      ).toBe(2);
    } finally {
      await store?.close();
    }
  });
});

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

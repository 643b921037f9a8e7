import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, withArchives } from '../archive/index.js';
import { eventually, readAllPages, sampleEvent } from '../testing/index.js';
import type { EventData, EventStore } from '../types.js';
import { archivePartitions, listEventPartitions } from './archive-partitions.js';
import { migrateEventStore } from './migrate.js';
import { createPostgresEventStore } from './postgres-event-store.js';
import { quoteIdentifier } from './sql.js';
import { packageMigrationsDir, runSqlMigrations } from './sql-migrations.js';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const schemas: string[] = [];
const dirs: string[] = [];
let admin: pg.Pool;

const newSchema = () => {
  const schema = `es_part_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  return schema;
};
const newDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mm-archive-test-'));
  dirs.push(dir);
  return dir;
};

/** Moves the cluster's transaction ids on by `n` (each statement in autocommit takes one). */
const burnXids = async (n: number) => {
  for (let i = 0; i < n; i++) await admin.query('SELECT pg_current_xact_id()');
};

const event = (type: string, tenantId: string, extra: Record<string, unknown> = {}): EventData => ({
  id: randomUUID(),
  type,
  data: { n: Math.random() },
  metadata: { tenantId, correlationId: randomUUID(), causationId: null, actor: { type: 'service', id: 'w' }, ...extra },
});

beforeAll(() => {
  admin = new pg.Pool({ connectionString: url, max: 2 });
});

afterAll(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('partitioned, compact log', () => {
  it('migrates an existing database: every event reads back as it was written before', async () => {
    const schema = newSchema();
    // The database as it was before the partitioned table (migrations up to 1700000000002).
    const oldDir = await newDir();
    const all = (await readdir(packageMigrationsDir(import.meta.url))).sort();
    for (const file of all.filter((f) => f < '1700000000003'))
      await copyFile(join(packageMigrationsDir(import.meta.url), file), join(oldDir, file));
    await runSqlMigrations({ connection: url, schema, dir: oldDir, table: 'event_store_migrations' });
    const written: (EventData & { streamName: string })[] = [];
    for (let i = 0; i < 30; i++) {
      const streamName = i % 3 === 0 ? `match-m${i}` : `player-t${i % 2}:u${i % 5}`;
      const e = event(i % 2 ? 'QueueJoined' : 'MatchCreated', `t${i % 2}`, i === 7 ? { traceId: 'x-1' } : {});
      if (i === 9) e.metadata.correlationId = 'req-not-a-uuid';
      if (i === 11) e.metadata.causationId = randomUUID();
      await admin.query(`SELECT ${quoteIdentifier(schema)}.append_events($1, -2, $2::jsonb)`, [
        streamName,
        JSON.stringify([{ ...e, schemaVersion: i === 4 ? 2 : 1 }]),
      ]);
      written.push({ ...e, streamName, schemaVersion: i === 4 ? 2 : 1 });
    }
    const before = (
      await admin.query(`SELECT position, revision, id FROM ${quoteIdentifier(schema)}.events ORDER BY position`)
    ).rows;

    await migrateEventStore({ connection: url, schema });
    const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2, migrate: false });
    try {
      const log = await readAllPages(store, {});
      expect(log.map((e) => [String(e.position), String(e.revision), e.id])).toEqual(
        before.map((r) => [r.position, r.revision, r.id]),
      );
      expect(
        log.map((e) => ({
          id: e.id,
          type: e.type,
          schemaVersion: e.schemaVersion,
          data: e.data,
          metadata: e.metadata,
          streamName: e.streamName,
        })),
      ).toEqual(
        written.map((w) => ({
          id: w.id,
          type: w.type,
          schemaVersion: w.schemaVersion,
          data: w.data,
          metadata: w.metadata,
          streamName: w.streamName,
        })),
      );
      // Appends go on at the migrated streams' revisions.
      const next = await store.appendToStream('match-m0', [event('GameCreated', 't0')], { expectedRevision: 0 });
      expect(next.nextExpectedRevision).toBe(1);
      expect((await store.readAll({ filter: { tenantId: 't1', eventTypes: ['QueueJoined'] } })).length).toBe(15);
    } finally {
      await store.close();
    }
  });

  it('creates partitions as transaction ids move on; reads cross them; archives replay the dropped ones', async () => {
    const schema = newSchema();
    const dir = await newDir();
    const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 3, partitionSpanXids: 40 });
    let archived: EventStore | undefined;
    try {
      const player = 'player-acme:alice';
      // Three rounds, each in a later partition.
      for (let round = 0; round < 3; round++) {
        await store.appendToStream(player, [event('QueueJoined', 'acme')]);
        await store.appendToStream(`match-r${round}`, [event('MatchCreated', 'acme'), event('GameCreated', 'acme')]);
        await store.appendToStream(`pool-acme:r${round}`, [sampleEvent('PairingPassCompleted')]);
        await burnXids(45);
      }
      const partitions = await listEventPartitions(admin, schema);
      expect(partitions.length).toBeGreaterThanOrEqual(4);
      const full = await readAllPages(store, { pageSize: 3 });
      expect(full).toHaveLength(12);
      expect((await store.readStream(player)).map((e) => e.revision)).toEqual([0, 1, 2]);

      // Archive everything recorded so far (every partition that no transaction can write into).
      const progress: number[] = [];
      const done = await archivePartitions({
        db: admin,
        schema,
        before: new Date(Date.now() + 60_000),
        dir,
        pageSize: 2,
        onProgress: (p) => progress.push(p.events),
      });
      expect(done.length).toBeGreaterThanOrEqual(2);
      expect(done.every((d) => d.dropped)).toBe(true);
      expect(done.reduce((n, d) => n + d.events, 0)).toBe(12);
      expect(progress.at(-1)).toBe(12);
      const manifest = await readManifest(dir);
      expect(manifest.files.map((f) => f.file)).toEqual(done.map((d) => d.file));
      // Gone from the live log and its tables…
      expect(await store.readAll({})).toEqual([]);
      const left = await listEventPartitions(admin, schema);
      expect(left.filter((p) => p.archivedAt).length).toBe(done.length);
      const tables = await admin.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2)`,
        [schema, done.map((d) => d.partition)],
      );
      expect(tables.rows[0].n).toBe(0);

      // …and read transparently through the archives: the same log, page by page, and the same streams.
      archived = await withArchives(store, dir);
      expect(await readAllPages(archived, { pageSize: 5 })).toEqual(full);
      expect(await readAllPages(archived, { pageSize: 2, filter: { categories: ['match'] } })).toEqual(
        full.filter((e) => e.streamName.startsWith('match-')),
      );
      expect((await archived.readStream(player)).map((e) => e.revision)).toEqual([0, 1, 2]);

      // A player whose events are all archived: reads as empty live, appends continue after the archived revisions.
      expect(await store.readStream(player)).toEqual([]);
      expect(await store.streamRevision(player)).toBe(2);
      const again = await store.appendToStream(player, [event('QueueJoined', 'acme')], {
        expectedRevision: 'no_stream',
      });
      expect(again.nextExpectedRevision).toBe(3);
      const tail = await archived.readAll({ after: full.at(-1)!.position });
      expect(tail.map((e) => [e.streamName, e.revision])).toEqual([[player, 3]]);
      expect(
        (await archived.readStream(player, { direction: 'backwards', maxCount: 2 })).map((e) => e.revision),
      ).toEqual([3, 2]);
    } finally {
      await (archived ?? store).close();
    }
  });

  it('makes the next partition ahead of time, on its timer, without an append finding none', async () => {
    const schema = newSchema();
    const store = await createPostgresEventStore({
      connectionString: url,
      schema,
      poolSize: 2,
      partitionSpanXids: 30,
      partitionCheckMs: 50,
    });
    try {
      await burnXids(70); // past the two partitions made at start, with no append
      const next = async () =>
        Number((await admin.query(`SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS x`)).rows[0].x);
      await eventually(async () => {
        const last = (await listEventPartitions(admin, schema)).at(-1)!;
        expect(last.fromPosition).toBeGreaterThan((await next()) * 65536);
      }, 5000);
    } finally {
      await store.close();
    }
  });

  it('a damaged archive file fails the read instead of replaying wrong data', async () => {
    const schema = newSchema();
    const dir = await newDir();
    const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2, partitionSpanXids: 20 });
    try {
      await store.appendToStream('player-t:u', [event('QueueJoined', 't'), event('QueueCancelled', 't')]);
      await burnXids(45);
      const [first] = await archivePartitions({ db: admin, schema, before: new Date(Date.now() + 60_000), dir });
      expect(first).toBeDefined();
      const path = join(dir, first!.file);
      const lines = gunzipSync(await readFile(path))
        .toString()
        .split('\n');
      lines[0] = lines[0]!.replace('QueueJoined', 'QueueJoinee');
      await writeFile(path, gzipSync(lines.join('\n')));
      const archived = await withArchives(store, dir);
      await expect(readAllPages(archived, {})).rejects.toThrow(/SHA-256/);
    } finally {
      await store.close();
    }
  });

  it('archives nothing that is newer than --before, or still being written', async () => {
    const schema = newSchema();
    const dir = await newDir();
    await mkdir(dir, { recursive: true });
    const store = await createPostgresEventStore({
      connectionString: url,
      schema,
      poolSize: 2,
      partitionSpanXids: 1000,
    });
    try {
      await store.appendToStream('player-t:v', [event('QueueJoined', 't')]);
      expect(await archivePartitions({ db: admin, schema, before: new Date(Date.now() + 60_000), dir })).toEqual([]);
      expect(await archivePartitions({ db: admin, schema, before: new Date(Date.now() - 60_000), dir })).toEqual([]);
      expect((await readManifest(dir)).files).toEqual([]);
      expect(await store.readAll({})).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

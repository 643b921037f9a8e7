import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.js';
import { quoteIdentifier } from '../postgres/sql.js';
import { readAllPages, sampleEvent } from '../testing/index.js';
import type { LogEvent, RecordedEvent } from '../types.js';
import { withArchives } from './archived-store.js';
import { exportArchive } from './export.js';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const schema = `es_archlog_${randomBytes(6).toString('hex')}`;
let store: PostgresEventStore;
let dir: string;

beforeAll(async () => {
  store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 4 });
  dir = await mkdtemp(join(tmpdir(), 'mm-archived-log-'));
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
});

const logOf = (event: RecordedEvent, recordedAt = false): LogEvent => ({
  position: event.position,
  type: event.type,
  schemaVersion: event.schemaVersion,
  tenantId: event.metadata.tenantId,
  data: event.data,
  ...(recordedAt ? { recordedAt: event.recordedAt } : {}),
});

describe('withArchives over the PostgreSQL store: readLog and streamLog read the archives, then the live log', () => {
  it('gives the pages readAll gives, cut down, across the archive/live border, with a filter and recorded times', async () => {
    for (let i = 0; i < 7; i++)
      await store.appendToStream(`${i % 3 === 0 ? 'match' : 'player'}-t:u${i}`, [sampleEvent('QueueJoined', { i })]);
    const exported = await exportArchive({
      store,
      before: new Date(Date.now() + 1000),
      dir,
      source: 'postgres',
      pageSize: 3,
    });
    expect(exported?.events).toBe(7);
    for (let i = 7; i < 12; i++)
      await store.appendToStream(`${i % 3 === 0 ? 'match' : 'player'}-t:u${i}`, [sampleEvent('QueueJoined', { i })]);

    const archived = await withArchives(store, dir);
    expect(archived.archivedUpTo).toBe(exported!.lastPosition);
    const all = await readAllPages(store, {});
    expect(all).toHaveLength(12);
    const players = all.filter((e) => e.streamName.startsWith('player-'));

    // readLog: pages of 4 from the start, crossing from the files to the live log
    const logged: LogEvent[] = [];
    for (let after = -1; ; ) {
      const page = await archived.readLog!({ after, maxCount: 4, recordedAt: true });
      logged.push(...page);
      if (page.length < 4) break;
      after = page[page.length - 1]!.position;
    }
    expect(logged).toEqual(all.map((e) => logOf(e, true)));
    // a page that starts in the live part is the live store's own
    expect(await archived.readLog!({ after: archived.archivedUpTo, maxCount: 10 })).toEqual(
      all.slice(7).map((e) => logOf(e)),
    );

    // streamLog: every page, with a filter, from the start and from inside the archives
    const streamed: LogEvent[][] = [];
    for await (const page of archived.streamLog!({ maxCount: 2, filter: { categories: ['player'] } }))
      streamed.push(page);
    expect(streamed.flat()).toEqual(players.map((e) => logOf(e)));
    expect(streamed.every((page) => page.length <= 2)).toBe(true);
    const fromMiddle: LogEvent[] = [];
    for await (const page of archived.streamLog!({ after: all[2]!.position, maxCount: 3 })) fromMiddle.push(...page);
    expect(fromMiddle).toEqual(all.slice(3).map((e) => logOf(e)));
  });
});

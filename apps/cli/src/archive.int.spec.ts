import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresEventStore, listEventPartitions, type PostgresEventStore } from '@mm/event-store/postgres';
import { writeSyntheticLog } from '@mm/replay/synthetic';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let db: TestSchema;
let store: PostgresEventStore;
let dir: string;
let env: Record<string, string>;

const mm = (args: string[]) =>
  new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@mm/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

const expectOneLineFailure = (run: Run, pattern: RegExp) => {
  expect(run.code).toBe(2);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
};

/** The audit's findings and figures, without what depends on the run (timings). */
const auditResult = (run: Run) => {
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout);
  return { ok: report.ok, violations: report.violations, stats: report.stats, lastPosition: report.lastPosition };
};

beforeAll(async () => {
  db = await createTestSchema('mm_archive');
  dir = await mkdtemp(join(tmpdir(), 'mm-cli-archive-'));
  // Small partitions (40 transaction ids each): the synthetic log spreads over many of them.
  store = await createPostgresEventStore({
    connectionString: db.connectionString,
    schema: db.schema,
    poolSize: 2,
    partitionSpanXids: 40,
  });
  await writeSyntheticLog(store, { events: 600, tenants: 1, playersPerTenant: 40 });
  // Transaction ids move on, so every partition written so far is closed to new writes.
  for (let i = 0; i < 50; i++) await db.pool.query('SELECT pg_current_xact_id()');
  env = {
    DATABASE_URL: db.connectionString,
    EVENT_STORE_SCHEMA: db.schema,
    READ_MODEL_SCHEMA: `${db.schema}_rm`,
    REDIS_PREFIX: `mm-archive-${db.schema}`,
    EVENT_ARCHIVE_DIR: dir,
    MM_NO_PROGRESS: '1',
  };
}, 120_000);

afterAll(async () => {
  await store?.close();
  const { rows } = await db.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [
    `${db.schema}_%`,
  ]);
  for (const { nspname } of rows) await db.pool.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('mm archive', () => {
  it('refuses bad input with one line and exit 2', async () => {
    expectOneLineFailure(
      await mm(['archive', '--before', 'yesterday']),
      /--before "yesterday" is neither a log position nor an ISO time/,
    );
    expectOneLineFailure(await mm(['archive', '--before', '2999-01-01T00:00:00Z']), /in the future/);
    const missing = await mm(['archive']);
    expect(missing.code).toBe(2); // commander: the error line, then its "(run with --help for usage)"
    expect(missing.stderr).toMatch(/required option '--before <time>' not specified/);
  });

  it('archives old partitions and drops them; mm rebuild from position 0 and mm audit give the same results as before', async () => {
    const audited = auditResult(await mm(['audit', '--json']));
    expect(audited.ok).toBe(true);
    expect(audited.stats.events).toBeGreaterThanOrEqual(600);
    const before = await mm(['rebuild', 'read-models', '--into', `${db.schema}_before`, '--json']);
    expect(before.code).toBe(0);
    const livePartitions = (await listEventPartitions(db.pool, db.schema)).length;

    const archive = await mm(['archive', '--before', new Date(Date.now() - 1000).toISOString(), '--json']);
    expect(archive.stderr).toBe('');
    expect(archive.code).toBe(0);
    const { archived } = JSON.parse(archive.stdout) as {
      archived: { partition: string; events: number; dropped: boolean }[];
    };
    expect(archived.length).toBeGreaterThanOrEqual(1);
    expect(archived.every((a) => a.dropped)).toBe(true);
    const archivedEvents = archived.reduce((n, a) => n + a.events, 0);
    const logged = (await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`)).rows[0].n;
    expect(archivedEvents).toBeGreaterThan(audited.stats.events / 2); // most of the log left PostgreSQL
    expect(logged + archivedEvents).toBe((await mm(['audit', '--json']).then(auditResult)).stats.events);
    expect((await readdir(dir)).filter((f) => f.endsWith('.ndjson.gz'))).toHaveLength(archived.length);
    expect((await listEventPartitions(db.pool, db.schema)).filter((p) => !p.archivedAt).length).toBeLessThan(
      livePartitions,
    );

    // The same audit and the same read models, from archives + the live log.
    expect(auditResult(await mm(['audit', '--json']))).toEqual(audited);
    const after = await mm(['rebuild', 'read-models', '--into', `${db.schema}_after`, '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).events).toBe(JSON.parse(before.stdout).events);
    const diff = await mm(['diff', 'read-models', `${db.schema}_before`, `${db.schema}_after`]);
    expect(diff.stdout).toMatch(/RESULT: the read models are equal/);
    expect(diff.code).toBe(0);

    // Nothing newer is archived by a second run.
    const again = await mm(['archive', '--before', new Date(Date.now() - 1000).toISOString()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^nothing to archive/);
  }, 240_000);
});

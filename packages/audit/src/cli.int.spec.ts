import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestLog } from './test-log.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const runCli = (env: Record<string, string>, args: string[] = []) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@mm/source', '--import', 'tsx', 'packages/audit/src/cli.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('pnpm run audit (CLI) against a PostgreSQL event store', () => {
  let db: TestSchema;
  let store: EventStore;
  beforeAll(async () => {
    db = await createTestSchema('audit_cli');
    store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const appendAll = async (log: TestLog) => {
    for (const e of log.events)
      await store.appendToStream(e.streamName, [
        { id: crypto.randomUUID(), type: e.type, data: e.data, metadata: e.metadata },
      ]);
  };

  it('exits 0 with a clean report, then 1 once the log holds a violation', async () => {
    await appendAll(new TestLog().pairAndPlay('a', 'b', 'm1'));
    const env = { DATABASE_URL: db.connectionString, EVENT_STORE_SCHEMA: db.schema };
    const clean = await runCli(env, ['--settled', '--windows']);
    expect(clean.stderr).toMatch(/events read/);
    expect(clean.stdout).toMatch(/RESULT: no violations/);
    expect(clean.code).toBe(0);

    // b cancels the entry that is already matched and playing: I3.
    await appendAll(new TestLog().cancel('b', 'e-b-m1'));
    const broken = await runCli(env, ['--settled']);
    expect(broken.stdout).toMatch(/FAIL I3/);
    expect(broken.stdout).toMatch(/CANCEL_OF_MATCHED_ENTRY/);
    expect(broken.code).toBe(1);
  }, 90_000);
});

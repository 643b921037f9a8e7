import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makePool, playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { readModelTables } from '@mm/projections';
import { rebuildReadModels } from '@mm/replay';
import { writeSyntheticLog } from '@mm/replay/synthetic';
import { createTestSchema, type TestSchema } from '@mm/testing';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let db: TestSchema;
let store: EventStore;
let live: string;
let env: Record<string, string>;
const extra: string[] = [];

/** The real CLI as a child process (stdout and stderr are pipes, as in a script). */
const mm = (args: string[], overrides: Record<string, string> = {}) =>
  new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@mm/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env, ...overrides }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** Exit 2 with exactly one line on stderr and no stack trace. */
const expectOneLineFailure = (run: Run, pattern: RegExp) => {
  expect(run.code).toBe(2);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
};

const join = async (userId: string, entry: string) => {
  const result = await handleCommand({
    store,
    streamName: playerStream('tenant-cli', userId),
    decider: playerDecider,
    command: {
      type: 'JoinQueue',
      userId,
      queueEntryId: entry,
      pool: makePool('3+0', 'rated'),
      rating: 1500,
      ratingSource: 'default',
      ratingRange: null,
      now: new Date().toISOString(),
    },
    metadata: { tenantId: 'tenant-cli', correlationId: 'c', causationId: null, actor: { type: 'user', id: userId } },
  });
  if (!result.ok) throw new Error(result.error.code);
};

beforeAll(async () => {
  db = await createTestSchema('mm_cli');
  live = `${db.schema}_rm`;
  extra.push(live, `${db.schema}_b`);
  store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  await writeSyntheticLog(store, { events: 1000, tenants: 1, playersPerTenant: 60 });
  await join('searcher', 'e-searcher');
  // The "live" read models, as the projector would have built them.
  await rebuildReadModels({ db: db.pool, store, schema: live });
  env = {
    DATABASE_URL: db.connectionString,
    EVENT_STORE_SCHEMA: db.schema,
    READ_MODEL_SCHEMA: live,
    REDIS_PREFIX: `mm-cli-${db.schema}`,
  };
});

afterAll(async () => {
  await store?.close();
  const { rows } = await db.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [
    `${db.schema}_%`,
  ]);
  for (const { nspname } of rows) await db.pool.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  await db?.drop();
});

describe('pnpm mm (the real CLI)', () => {
  it('has --help on every command, and exits 0 with it', async () => {
    const program = buildProgram(async () => undefined);
    const all = (command: Command): Command[] => [command, ...command.commands.flatMap(all)];
    const commands = all(program).filter((c) => c.name() !== 'help');
    expect(commands.map((c) => c.name())).toEqual(
      expect.arrayContaining([
        'mm',
        'rebuild',
        'read-models',
        'queue-views',
        'diff',
        'audit',
        'history',
        'player',
        'as-of',
      ]),
    );
    for (const command of commands) {
      expect(command.helpInformation()).toMatch(/^Usage: mm/);
      expect(command.description().length).toBeGreaterThan(10);
    }
    const help = await mm(['rebuild', 'read-models', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--swap/);
  });

  it('rebuilds into a fresh schema, which diff finds equal to the live one; a tampered live row makes diff and audit --read-models exit 1 and name it', async () => {
    const rebuilt = await mm(['rebuild', 'read-models', '--into', `${db.schema}_b`, '--json']);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toBe(''); // no progress bar when stderr is not a terminal
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ schema: `${db.schema}_b`, resumedFrom: -1, interrupted: false });
    expect(JSON.parse(rebuilt.stdout).events).toBeGreaterThan(1000);

    const same = await mm(['diff', 'read-models', live, `${db.schema}_b`]);
    expect(same.stdout).toMatch(/RESULT: the read models are equal/);
    expect(same.code).toBe(0);

    const t = readModelTables(live);
    const { rows } = await db.pool.query<{ match_id: string }>(
      `UPDATE ${t.matches} SET status = 'ABORTED' WHERE match_id = (SELECT min(match_id) FROM ${t.matches} WHERE status = 'GAME_CREATED') RETURNING match_id`,
    );
    const matchId = rows[0]!.match_id;
    const [diff, audit] = await Promise.all([
      mm(['diff', 'read-models', live, `${db.schema}_b`]),
      mm(['audit', '--read-models', '--json']),
    ]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/DIFF matches .*1 differing/);
    expect(diff.stdout).toContain(`${matchId}: status "ABORTED" ≠ "GAME_CREATED"`);
    expect(audit.code).toBe(1);
    const report = JSON.parse(audit.stdout);
    expect(report.violations).toEqual([]);
    expect(report.readModels.differing).toBe(1);
    const matches = report.readModels.tables.find((x: { table: string }) => x.table === 'matches');
    expect(matches.rows[0]).toMatchObject({ key: { match_id: matchId }, columns: ['status'] });
    await db.pool.query(`UPDATE ${t.matches} SET status = 'GAME_CREATED' WHERE match_id = $1`, [matchId]);
  });

  it('audits the log: exit 0 when clean, 1 with each violation’s position, stream and code', async () => {
    const clean = await mm(['audit', '--json']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, violations: [] });
    // A second searching entry for the same player (the domain refuses it; a broken writer did not): I1.
    await store.appendToStream(playerStream('tenant-cli', 'searcher'), [
      {
        id: crypto.randomUUID(),
        type: 'QueueJoined',
        data: {
          userId: 'searcher',
          queueEntryId: 'e-searcher-2',
          pool: makePool('3+0', 'rated'),
          rating: 1500,
          ratingSource: 'default',
          ratingRange: null,
          enqueuedAt: new Date().toISOString(),
        },
        metadata: { tenantId: 'tenant-cli', correlationId: 'c', causationId: null, actor: { type: 'user', id: 'x' } },
      },
    ]);
    const broken = await mm(['audit', '--json']);
    expect(broken.code).toBe(1);
    const { violations, lastPosition } = JSON.parse(broken.stdout);
    expect(violations).toEqual([
      expect.objectContaining({
        invariant: 'I1',
        code: 'TWO_SEARCHING_ENTRIES',
        position: lastPosition,
        stream: playerStream('tenant-cli', 'searcher'),
      }),
    ]);
    const before = await mm(['audit', '--to', String(lastPosition - 1)]);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/RESULT: no violations/);
  });

  it("tells a player's history in words and a pool's searching entries as of a time", async () => {
    const [history, asOf, past] = await Promise.all([
      mm(['history', 'player', 'tenant-1', 'u0']),
      mm(['as-of', new Date().toISOString(), 'pool', '3+0', 'rated', '--tenant', 'tenant-cli', '--json']),
      mm(['as-of', '2020-01-01T00:00:00Z', 'pool', '3+0', 'rated', '--json']),
    ]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/joined .* with rating \d+/);
    expect(history.stdout).toMatch(/claimed for match \S+ against u\d+/);
    expect(history.stdout).toMatch(/game \S+ of match \S+ started, playing (white|black)/);
    expect(asOf.code).toBe(0);
    expect(JSON.parse(asOf.stdout).entries.map((e: { queueEntryId: string }) => e.queueEntryId)).toContain(
      'e-searcher',
    );
    expect(JSON.parse(past.stdout)).toMatchObject({ position: -1, entries: [] });
  });

  it('says in one line what to do when it cannot run (exit 2)', async () => {
    const runs = await Promise.all([
      mm(['diff', 'read-models', live, 'no_such_schema']),
      mm(['as-of', 'last tuesday', 'pool', '3+0', 'rated']),
      mm(['history', 'player', 'tenant-1', 'nobody']),
      mm(['rebuild', 'read-models', '--to', '12:00']),
      mm(['audit'], { EVENT_STORE_SCHEMA: 'no_such_store' }),
      mm(['diff', 'read-models', live]),
      mm(['audit'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }),
    ]);
    expectOneLineFailure(runs[0]!, /schema no_such_schema does not exist .* — read-model schemas here: /);
    expectOneLineFailure(runs[1]!, /"last tuesday" is neither a log position nor an ISO time — /);
    expectOneLineFailure(runs[2]!, /no events for player nobody in tenant tenant-1 — check the tenant and user id/);
    expectOneLineFailure(runs[3]!, /--to "12:00" is neither/);
    expectOneLineFailure(runs[4]!, /no event store in schema no_such_store .* — check EVENT_STORE_URL/);
    expect(runs[5]!.code).toBe(2); // commander: missing argument
    expect(runs[5]!.stderr).toMatch(/missing required argument 'schemaB'/);
    expectOneLineFailure(runs[6]!, /cannot connect .* — start PostgreSQL/);
  });
});

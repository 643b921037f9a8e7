import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@mm/config';
import { makePool, playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createQueueViewReader } from '@mm/projections';
import { createGameCreationQueue } from '@mm/redis';
import { createTestRedis, createTestSchema, deleteRedisPrefix, randomRedisPrefix, type TestSchema } from '@mm/testing';
import { poolModes, runPairingPass } from '@mm/workers';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const TENANT = 'tenant-explain';
const POOL = makePool('3+0', 'rated');
const NOW = Date.parse('2026-11-30T12:00:00.000Z');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let db: TestSchema;
let store: EventStore;
let tampered: EventStore;
let redis: Redis;
let prefix: string;
let matchId: string;
let env: Record<string, string>;

const mm = (args: string[], overrides: Record<string, string> = {}) =>
  new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@mm/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env, ...overrides }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

const join = async (userId: string, rating: number, waitedMs: number) => {
  const entryId = `e-${userId}`;
  const result = await handleCommand({
    store,
    streamName: playerStream(TENANT, userId),
    decider: playerDecider,
    command: {
      type: 'JoinQueue',
      userId,
      queueEntryId: entryId,
      pool: POOL,
      rating,
      ratingSource: 'default',
      ratingRange: null,
      now: new Date(NOW - waitedMs).toISOString(),
    },
    metadata: { tenantId: TENANT, correlationId: 'c', causationId: null, actor: { type: 'user', id: userId } },
  });
  if (!result.ok) throw new Error(result.error.code);
  return {
    entryId,
    userId,
    rating,
    enqueuedAt: NOW - waitedMs,
    ratingRange: null,
    recentOpponents: [],
    colourHistory: [],
  };
};

beforeAll(async () => {
  db = await createTestSchema('mm_explain');
  store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  redis = createTestRedis();
  prefix = randomRedisPrefix('mm-explain');
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.connectionString,
    EVENT_STORE_SCHEMA: db.schema,
    REDIS_PREFIX: prefix,
  });
  // ann and bob fit each other; cid fits bob only and waited less; dan is far from everyone.
  const snapshot = [await join('ann', 1500, 12_000), await join('bob', 1540, 3_000), await join('cid', 1620, 1_000)];
  snapshot.push(await join('dan', 2300, 1_000));
  const gameCreationQueue = createGameCreationQueue(redis, config);
  // The real pass, as the pairing worker runs it on a snapshot of the pool.
  const pass = await runPairingPass(
    {
      config,
      logger: pino({ level: 'silent' }),
      store,
      gameCreationQueue,
      now: () => NOW,
      redis,
      reader: createQueueViewReader(redis, prefix),
      modeOf: poolModes(''),
    },
    { tenantId: TENANT, poolKey: POOL.key },
    snapshot,
  );
  await gameCreationQueue.close();
  if (pass.matchIds.length !== 1 || !pass.recorded)
    throw new Error(`expected one recorded match: ${JSON.stringify(pass)}`);
  matchId = pass.matchIds[0]!;

  // The same log in another schema, with bob's rating edited in the pass record only.
  tampered = await createPostgresEventStore({
    connectionString: db.connectionString,
    schema: `${db.schema}_t`,
    poolSize: 2,
  });
  for (const event of await store.readAll({ maxCount: 1000 })) {
    const data =
      event.type === 'PairingPassCompleted'
        ? {
            ...(event.data as Record<string, unknown>),
            entries: (event.data as { entries: { userId: string }[] }).entries.map((e) =>
              e.userId === 'bob' ? { ...e, rating: 1700 } : e,
            ),
          }
        : event.data;
    await tampered.appendToStream(event.streamName, [
      { id: event.id, type: event.type, schemaVersion: event.schemaVersion, data, metadata: event.metadata },
    ]);
  }
  env = { DATABASE_URL: db.connectionString, EVENT_STORE_SCHEMA: db.schema, REDIS_PREFIX: prefix };
});

afterAll(async () => {
  await store?.close();
  await tampered?.close();
  if (redis) {
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  }
  await db?.pool.query(`DROP SCHEMA IF EXISTS "${db.schema}_t" CASCADE`);
  await db?.drop();
});

describe('mm explain match / mm audit --decisions (the real CLI)', () => {
  it('explains a recorded match in words and re-runs its pass identically (exit 0)', async () => {
    const run = await mm(['explain', 'match', matchId]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ann \(entry e-ann\): rating 1500, window \[1375, 1625\], waited 12\.0 s/);
    expect(run.stdout).toMatch(/bob \(entry e-bob\): rating 1540, window \[1440, 1640\], waited 3\.0 s/);
    expect(run.stdout).toMatch(/rating gap 40/);
    expect(run.stdout).toMatch(/cid .*left unpaired\n\s+not (ann|bob)'s: /);
    expect(run.stdout).toMatch(/not ann's: ann \(1500\) is outside cid's window \[1520, 1720\]/);
    expect(run.stdout).toMatch(
      /not bob's: pairing them leaves longer waiters unpaired \(4 s of matched wait instead of 15 s\)/,
    );
    expect(run.stdout).toMatch(/not ann's: dan \(2300\) is outside ann's window/);
    expect(run.stdout).toMatch(/RE-RUN: identical/);

    const json = await mm(['explain', 'match', matchId, '--json']);
    expect(json.code).toBe(0);
    const explained = JSON.parse(json.stdout);
    expect(explained).toMatchObject({
      matchId,
      tenantId: TENANT,
      pool: POOL.key,
      pass: { entries: 4, pairs: 1, certificate: { exact: true } },
      rerun: { status: 'identical', differences: [] },
    });
    expect(explained.candidates.map((c: { userId: string }) => c.userId)).toEqual(['cid', 'dan']);
    // The issue's goal for one match: ≤ 200 ms (reads and re-runs inside the command).
    expect(explained.ms).toBeLessThan(2000);
    console.info(`mm explain match: ${explained.ms} ms in the command`);
  });

  it('an edited pass input is reported as a difference (exit 1)', async () => {
    const run = await mm(['explain', 'match', matchId], { EVENT_STORE_SCHEMA: `${db.schema}_t` });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/RE-RUN: DIFFERENT/);
    expect(run.stdout).toMatch(/black|white/);
    expect(run.stdout).toMatch(/\(bob\): rating 1540 in the match, 1700 in the pass/);
    expect(run.stdout).toMatch(/entry e-bob \(bob\): window recorded \[1440, 1640\], the settings give \[1600, 1800\]/);
    expect(run.stdout).toMatch(/pair e-ann \+ e-bob was recorded; the re-run does not make it/);
    expect(run.stdout).toMatch(/pair e-bob \+ e-cid is made by the re-run; it was not recorded/);
  });

  it('mm audit --decisions re-runs every recorded pass: 0 on the log, 1 naming the edited pass', async () => {
    const ok = await mm(['audit', '--decisions', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).decisions).toMatchObject({ passes: 1, matches: 1, mismatches: [] });

    const bad = await mm(['audit', '--decisions'], { EVENT_STORE_SCHEMA: `${db.schema}_t` });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/MISMATCH pass [0-9a-f-]{36} \(tenant-explain, pool 3\+0:rated/);
    expect(bad.stdout).toMatch(/pair e-ann \+ e-bob was recorded; the re-run does not make it/);
    expect(bad.stdout).toMatch(/RESULT: 1 pass\(es\) do not re-run to their record/);
  });

  it('an unknown match id is one line on stderr and exit 2', async () => {
    const run = await mm(['explain', 'match', 'no-such-match']);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/no match no-such-match in the log/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

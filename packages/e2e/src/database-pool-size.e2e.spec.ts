import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databasePoolSizes } from '@mm/config';
import {
  createTestRedis,
  createTestSchema,
  deleteRedisPrefix,
  randomRedisPrefix,
  TEST_JWT_SECRET,
  type TestSchema,
  testRedisUrl,
} from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './stack/free-port.js';
import { repoRoot, ServiceProcess } from './stack/service-process.js';

/**
 * DATABASE_POOL_SIZE is honoured by every process: each real entry point (API, worker, projector,
 * `pnpm mm`, `pnpm run audit`) runs with a preload that records every pg.Pool it makes, and the
 * pools alive at any moment may hold DATABASE_POOL_SIZE connections together — never more.
 */
const POOL_SIZE = 5;
const preload = fileURLToPath(new URL('../test/record-pg-pools.mjs', import.meta.url));

let db: TestSchema;
let dir: string;
let env: Record<string, string>;
let prefix: string;
const started: ServiceProcess[] = [];

interface PoolEvent {
  pid: number;
  id: number;
  event: 'made' | 'ended';
  max?: number;
  name?: string | null;
}

/** The pools one process made, and the most connections its live pools could hold at once. */
const poolsOf = (file: string) => {
  const events = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PoolEvent);
  const live = new Map<string, number>();
  let peak = 0;
  for (const e of events) {
    const key = `${e.pid}:${e.id}`;
    if (e.event === 'made') live.set(key, e.max ?? 10);
    else live.delete(key);
    peak = Math.max(
      peak,
      [...live.values()].reduce((a, b) => a + b, 0),
    );
  }
  return { made: events.filter((e) => e.event === 'made'), peak };
};

beforeAll(async () => {
  db = await createTestSchema('poolsize');
  prefix = randomRedisPrefix('poolsize');
  dir = mkdtempSync(join(tmpdir(), 'mm-poolsize-'));
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  env = {
    ...Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : []))),
    NODE_OPTIONS: `--import=${preload}`,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: db.connectionString,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    EVENT_STORE_SCHEMA: db.schema,
    READ_MODEL_SCHEMA: db.schema,
    API_SCHEMA: db.schema,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    // Nothing listens there: no process calls live-game-api in this test.
    LIVE_GAME_API_URL: `http://127.0.0.1:${await freePort()}`,
    ACTIVE_GAME_CHECK: 'false',
    OPS_PORT: '0',
  };
});

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  const redis = createTestRedis();
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const startService = async (
  name: string,
  script: string,
  readiness: ServiceProcess['spec']['readiness'],
  extra = {},
) => {
  const service = new ServiceProcess({
    name,
    script,
    env: { ...env, PG_POOLS_FILE: join(dir, `${name}.jsonl`), ...extra },
    readiness,
    logFile: join(dir, `${name}.log`),
  });
  started.push(service);
  await service.start();
  return join(dir, `${name}.jsonl`);
};

const runCli = (name: string, args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const file = join(dir, `${name}.jsonl`);
    execFile(
      process.execPath,
      ['--conditions=@mm/source', '--import', 'tsx', ...args],
      { cwd: repoRoot, env: { ...env, PG_POOLS_FILE: file }, timeout: 60_000 },
      (error, stdout, stderr) =>
        error && error.code !== 1 ? reject(new Error(`${name}: ${stderr || stdout}`)) : resolve(file),
    );
  });

describe(`DATABASE_POOL_SIZE=${POOL_SIZE} in every process`, () => {
  it('the API: its event store and read-model pools share it', async () => {
    const port = await freePort();
    const file = await startService(
      'api',
      'apps/api/src/main.ts',
      { url: `http://127.0.0.1:${port}/health` },
      {
        PORT: String(port),
      },
    );
    const { made, peak } = poolsOf(file);
    expect(made.map((p) => p.max).sort()).toEqual(Object.values(databasePoolSizes(POOL_SIZE, 'api')).sort());
    expect(peak).toBe(POOL_SIZE);
  });

  it('a worker: its event store, pairing and challenge pools share it', async () => {
    const file = await startService('worker', 'apps/worker/src/main.ts', { logLine: /worker process started/ });
    const { made, peak } = poolsOf(file);
    expect(made).toHaveLength(3);
    expect(peak).toBe(POOL_SIZE);
  });

  it('the projector: its event store and read-model pools share it', async () => {
    const file = await startService('projector', 'apps/projector/src/main.ts', { logLine: /projector started/ });
    const { made, peak } = poolsOf(file);
    expect(made).toHaveLength(2);
    expect(peak).toBe(POOL_SIZE);
  });

  it('pnpm mm and pnpm run audit', async () => {
    const mm = poolsOf(await runCli('mm', ['apps/cli/src/main.ts', 'audit', '--read-models']));
    expect(mm.made.length).toBeGreaterThanOrEqual(2);
    expect(mm.peak).toBe(POOL_SIZE);
    const audit = poolsOf(await runCli('audit', ['packages/audit/src/cli.ts']));
    expect(audit.made).toHaveLength(1);
    expect(audit.peak).toBe(POOL_SIZE);
  });
});

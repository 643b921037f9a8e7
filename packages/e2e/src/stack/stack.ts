import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '@mm/config';
import { createEventStore, type EventStore, type RecordedEvent } from '@mm/event-store';
import {
  createTestRedis,
  createTestSchema,
  deleteRedisPrefix,
  type HttpDouble,
  randomRedisPrefix,
  TEST_JWT_AUDIENCE,
  TEST_JWT_ISSUER,
  TEST_JWT_SECRET,
  type TestSchema,
  testRedisUrl,
} from '@mm/testing';
import { freePort } from './free-port.js';
import { startRatingDouble } from './rating-double.js';
import { RoundRobin } from './round-robin.js';
import { buildWorkspace, ServiceProcess } from './service-process.js';

export interface StackOptions {
  /**
   * API processes. With more than one, `apiUrl` is a round-robin balancer in front of them
   * (each client connection to the next instance), as a load balancer would be. @defaultValue 1
   */
  apis?: number;
  /**
   * Projector processes: the first leads, the others are hot standbys (they take over within
   * ≈ 200 ms of its death). @defaultValue 1
   */
  projectors?: number;
  /** Worker processes (each runs every role unless `workerRoles` says otherwise). @defaultValue 2 */
  workers?: number;
  /** `WORKER_ROLES` per worker index (e.g. `['pairing', 'game-creation,scheduler']`). */
  workerRoles?: (string | undefined)[];
  /** Extra/overriding environment for every matchmaking app (api, projector, workers). */
  env?: Record<string, string>;
  /** Environment of live-game-sim (fault injection: SIM_ERROR_RATE, …). */
  simEnv?: Record<string, string>;
  /** Label of the schema / Redis prefix. @defaultValue 'e2e' */
  label?: string;
  /** Keep the log directory even when the run went well. @defaultValue false */
  keepLogs?: boolean;
  /**
   * LOG_LEVEL of the API and the simulator. The projector and workers always log at
   * `info` at least: their readiness is their "started" log line.
   * @defaultValue 'info'
   */
  logLevel?: string;
  /**
   * Run the apps' compiled JavaScript (as the production images do) instead of their sources
   * through `tsx`: faster starts and no transpiling loader. Compiles first (`tsc -b`,
   * incremental). @defaultValue false
   */
  compiled?: boolean;
}

/** The service stack as separate processes on loopback, on a fresh schema and Redis prefix. */
export interface Stack {
  apiUrl: string;
  simUrl: string;
  /** Directory with one log file per process. */
  logDir: string;
  schema: string;
  redisPrefix: string;
  /** The configuration the apps run with (as they parse it). */
  config: Config;
  /** The first API process. */
  api: ServiceProcess;
  /** Every API process (behind `apiUrl`'s balancer when there are several). */
  apis: ServiceProcess[];
  /** The balancer in front of the APIs, when there are several. */
  balancer: RoundRobin | undefined;
  /** The first projector (the leader at start). */
  projector: ServiceProcess;
  /** Every projector process, the leader at start first. */
  projectors: ServiceProcess[];
  workers: ServiceProcess[];
  sim: ServiceProcess;
  /** An event-store client in this process, for reading the log. */
  store: EventStore;
  /** Every event so far, in position order. */
  readAll(filter?: { eventTypes?: string[] }): Promise<RecordedEvent[]>;
  /** Starts one more worker process (e.g. after a kill), with the given roles. */
  addWorker(roles?: string): Promise<ServiceProcess>;
  /** Marks the run as failed: `stop` keeps the logs and prints where they are. */
  fail(): void;
  /** Stops every process (SIGTERM, then SIGKILL), drops the schema and the Redis keys. */
  stop(): Promise<void>;
}

const tsxEnv = (): Record<string, string> => {
  const keep = [
    'PATH',
    'HOME',
    'TMPDIR',
    'LANG',
    'TZ',
    'NODE_OPTIONS',
    'PROF_DIR',
    'PROF_CPU_ONLY',
    'PROJECTOR_READ_INTERVAL_MS',
  ];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
};

/**
 * Starts live-game-sim, the API, the projector and N workers, each with
 * `node --conditions=@mm/source --import tsx apps/<app>/src/main.ts`, and waits until
 * each is ready (`/ready` for HTTP apps, the "started" log line for the others).
 * rating-api is an HTTP double in this process (ratings chosen by the user id).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const label = options.label ?? 'e2e';
  const logDir = mkdtempSync(join(tmpdir(), `mm-${label}-`));
  const db: TestSchema = await createTestSchema(label);
  // An idle connection dropped by the server (a restart, pg_terminate_backend) must not crash the test process.
  db.pool.on('error', () => undefined);
  const redisPrefix = randomRedisPrefix(label);
  const services: ServiceProcess[] = [];
  let ratings: HttpDouble | undefined;
  let store: EventStore | undefined;
  let failed = false;
  let balancer: RoundRobin | undefined;

  const cleanup = async () => {
    await balancer?.close().catch(() => undefined);
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
    await store?.close().catch(() => undefined);
    await ratings?.close().catch(() => undefined);
    const redis = createTestRedis();
    await deleteRedisPrefix(redis, redisPrefix).catch(() => undefined);
    redis.disconnect();
    await db.drop().catch(() => undefined);
    if (failed || options.keepLogs) process.stderr.write(`e2e stack logs kept in ${logDir}\n`);
    else rmSync(logDir, { recursive: true, force: true });
  };

  try {
    if (options.compiled) buildWorkspace();
    ratings = await startRatingDouble();
    const [apiPort, simPort] = [await freePort(), await freePort()];
    const simUrl = `http://127.0.0.1:${simPort}`;
    const appEnv: Record<string, string> = {
      ...tsxEnv(),
      NODE_ENV: 'test',
      LOG_LEVEL: options.logLevel ?? 'info',
      DATABASE_URL: db.connectionString,
      // Per process, split among its pools: the API gets 8 + 8 (event store, read models).
      DATABASE_POOL_SIZE: '16',
      EVENT_STORE_SCHEMA: db.schema,
      READ_MODEL_SCHEMA: db.schema,
      API_SCHEMA: db.schema,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ISSUER: TEST_JWT_ISSUER,
      JWT_AUDIENCE: TEST_JWT_AUDIENCE,
      LIVE_GAME_API_URL: simUrl,
      LIVE_GAME_API_TIMEOUT_SECONDS: '1',
      RATING_API_URL: ratings.url,
      RATING_API_TIMEOUT_SECONDS: '1',
      GAME_CREATION_BACKOFF_MS: '100',
      CLAIM_RECOVERY_SECONDS: '3',
      PORT: String(apiPort),
      // Each process's ops server (/metrics, /health, /ready) on a free port: several
      // instances of one app, and several stacks, share the host.
      OPS_PORT: '0',
      // The benches offer hundreds of commands a second from one tenant: no tenant limit (the
      // per-user limit stays: every driver user sends a handful of commands).
      RATE_LIMIT_TENANT_COMMANDS: '0',
      ...options.env,
    };
    const config = loadConfig(appEnv);
    const service = (
      name: string,
      script: string,
      env: Record<string, string>,
      readiness: ServiceProcess['spec']['readiness'],
    ) => {
      const s = new ServiceProcess({
        name,
        script,
        env,
        readiness,
        logFile: join(logDir, `${name}.log`),
        compiled: options.compiled ?? false,
      });
      services.push(s);
      return s;
    };

    const sim = service(
      'live-game-sim',
      'apps/live-game-sim/src/main.ts',
      {
        ...tsxEnv(),
        PORT: String(simPort),
        LOG_LEVEL: options.logLevel ?? 'info',
        SIM_TIMEOUT_MS: '5000',
        ...options.simEnv,
      },
      { url: `${simUrl}/ready` },
    );
    const apiPorts = [apiPort];
    for (let i = 1; i < Math.max(1, options.apis ?? 1); i++) apiPorts.push(await freePort());
    const apis: ServiceProcess[] = [];
    for (const [i, port] of apiPorts.entries())
      apis.push(
        service(
          i === 0 ? 'api' : `api-${i + 1}`,
          'apps/api/src/main.ts',
          { ...appEnv, PORT: String(port) },
          { url: `http://127.0.0.1:${port}/ready` },
        ),
      );
    const api = apis[0]!;
    const quietEnv = { ...appEnv, LOG_LEVEL: 'info' };
    // A projector is ready when it leads or stands by (a restarted one finds the lock taken).
    const projectors = Array.from({ length: Math.max(1, options.projectors ?? 1) }, (_, i) =>
      service(i === 0 ? 'projector' : `projector-${i + 1}`, 'apps/projector/src/main.ts', quietEnv, {
        logLine: /"msg":"projector (started|standby|leading again)/,
      }),
    );
    const projector = projectors[0]!;
    let workerCount = 0;
    const newWorker = (roles?: string) =>
      service(
        `worker-${++workerCount}`,
        'apps/worker/src/main.ts',
        roles ? { ...quietEnv, WORKER_ROLES: roles } : quietEnv,
        {
          logLine: /"msg":"worker process started"/,
        },
      );
    const workers = Array.from({ length: options.workers ?? 2 }, (_, i) => newWorker(options.workerRoles?.[i]));

    // The API migrates the read models and its own schema first; the rest start side by side.
    await Promise.all([sim.start(), api.start()]);
    // The first API has migrated its schema and the read models: the others start side by side.
    await Promise.all(apis.slice(1).map((a) => a.start()));
    if (apis.length > 1) balancer = await RoundRobin.start(apiPorts);
    await Promise.all([projector.start(), ...workers.map((w) => w.start())]);
    for (const standby of projectors.slice(1)) await standby.start();
    store = await createEventStore(config.eventStoreUrl, { postgres: { schema: db.schema, poolSize: 2 } });
    const reader = store;

    const readAll = async (filter?: { eventTypes?: string[] }) => {
      const out: RecordedEvent[] = [];
      let after = -1;
      for (;;) {
        const page = await reader.readAll({ after, maxCount: 5000, ...(filter ? { filter } : {}) });
        if (page.length === 0) return out;
        out.push(...page);
        after = page[page.length - 1]!.position;
      }
    };

    return {
      apiUrl: balancer ? balancer.url : `http://127.0.0.1:${apiPort}`,
      simUrl,
      logDir,
      schema: db.schema,
      redisPrefix,
      config,
      api,
      apis,
      balancer,
      projector,
      projectors,
      workers,
      sim,
      store,
      readAll,
      async addWorker(roles) {
        const worker = newWorker(roles);
        workers.push(worker);
        await worker.start();
        return worker;
      },
      fail() {
        failed = true;
      },
      stop: cleanup,
    };
  } catch (error) {
    failed = true;
    await cleanup();
    throw error;
  }
}

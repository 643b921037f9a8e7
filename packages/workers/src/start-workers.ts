import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, databasePoolSizes } from '@mm/config';
import type { LoadedMatch } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { type LiveGameApi, liveGameApiFromConfig } from '@mm/integrations';
import { createMetricsRegistry, observeQueues, observeWorker, type ReadinessCheck, secondsSince } from '@mm/metrics';
import { createQueueViewReader, migrateReadModels, NO_HISTORY, type QueueViewEntry } from '@mm/projections';
import {
  bullPrefix,
  createGameCreationQueue,
  createPairingQueue,
  createTickQueue,
  enqueueGameCreation,
  GAME_CREATION_QUEUE,
  type GameCreationJobData,
  gameCreationAttempt,
  keepPoolLock,
  PAIRING_QUEUE,
  type PairingJobData,
  type PoolLock,
  type RedisClient,
  redisKeys,
  releasePoolLockIfUnchanged,
  signalPoolChanged,
  TICK_QUEUE,
  TICK_SCHEDULER_ID,
  upsertTickScheduler,
} from '@mm/redis';
import { Resources, redisTarget } from '@mm/runtime';
import { type Job, type Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WorkerContext } from './context.js';
import {
  createGameForMatch,
  type GameCreationAttempt,
  type GameCreationOutcome,
  GameCreationRetry,
} from './games/create-game.js';
import { createWorkerMetrics, gameCreationMetricOutcome, observePools } from './metrics.js';
import { type PairingPassContext, type PassResult, runPairingPass } from './pairing/pairing-pass.js';
import { poolModes } from './pairing/wave.js';
import { type SweepResult, sweepStuckMatches } from './recovery/sweep.js';

export type WorkerRole = 'pairing' | 'game-creation' | 'scheduler';

export interface StartWorkersOptions {
  config: Config;
  logger: Logger;
  store: EventStore;
  /** Used for the queue views, the pool locks and BullMQ (duplicated for blocking reads). @defaultValue a client on REDIS_URL */
  redis?: RedisClient;
  /** PostgreSQL with the read models (the recovery sweep's candidates). @defaultValue a pool on DATABASE_URL */
  db?: pg.Pool;
  /** @defaultValue the HTTP client on LIVE_GAME_API_URL */
  liveGame?: LiveGameApi;
  /** Which workers this process runs. @defaultValue all three */
  roles?: WorkerRole[];
  /** Game-creation jobs run at once (they wait on HTTP), and first attempts run in-process at once. @defaultValue 16 */
  gameCreationConcurrency?: number;
  /**
   * A process that runs both pairing and game creation makes the first attempt of each of its
   * matches' games itself, without a job (later attempts are jobs). @defaultValue true
   */
  inlineGameCreation?: boolean;
  /** Clock in epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** `application_name` of the PostgreSQL pool created here (not of a `db` given in). @defaultValue 'mm-worker' */
  applicationName?: string;
  /** How often a scheduler-role process checks that the tick's job scheduler exists. @defaultValue {@link SCHEDULER_CHECK_MS} */
  schedulerCheckMs?: number;
  /** Where the workers' metrics go (served on the ops port by apps/worker). @defaultValue a registry of its own */
  registry?: Registry;
}

export interface Workers {
  pairingQueue: Queue<PairingJobData>;
  gameCreationQueue: Queue<GameCreationJobData>;
  /** Runs one pairing pass directly (tests; the worker runs the same function per job). */
  pass(tenantId: string, poolKey: string): Promise<PassResult>;
  /** Runs the scheduler tick's work now (tests, operators). */
  tick(): Promise<{ signalled: number; sweep: SweepResult | null }>;
  /** Pairing passes, matches, claim conflicts, game creation, sweeps, pool sizes, queue gauges and job timings. */
  registry: Registry;
  /** What the ops server's `/ready` checks: the event store, Redis and PostgreSQL. */
  readinessChecks: Record<string, ReadinessCheck>;
  /** Stops taking jobs, waits for running ones to finish, releases what it created. */
  close(): Promise<void>;
}

/** Pairing-pass rounds inside one job while the pool keeps changing under it. */
const MAX_ROUNDS_PER_JOB = 3;

/*
 * How fast work held by a dead process comes back (packages/workers/README.md, "Worker death").
 * BullMQ renews a running job's lock every `lockRenewTime` (at most; its timer runs twice as
 * often) and a stalled check every `stalledInterval` moves a job whose lock has expired back to
 * wait: a job of a SIGKILLed worker is running again at most lockDuration + stalledInterval after
 * its last renewal. A live worker loses a job only if its event loop stalls for longer than
 * lockDuration − lockRenewTime (0.55 s for pairing; a pairing pass over 10 000 entries computes
 * for ~0.1 s, and larger pools are paired in a worker thread). Redis cost: one lock renewal per
 * running job per 0.125–0.25 s (none for a job shorter than that) and one stalled-check script
 * per worker and queue per stalledInterval.
 */
/**
 * Pairing: a pool's one job must come back within 2 s — lock ≤ 0.8 s, then a check ≤ 0.2 s, then
 * the pass. (Was 1.2 s / 0.4 s / 0.3 s: under 15 kills in 90 s, every kill stopped its pools
 * ≈ 1.2–1.5 s, which alone put the second join → MatchCreated p99 at ≈ 2.1 s.)
 */
export const PAIRING_WORKER_LOCK = { lockDuration: 800, lockRenewTime: 250, stalledInterval: 200 } as const;
/** Game creation and the tick: back within 3 s (target 5 s); their jobs wait on HTTP, not the CPU. */
export const GAME_CREATION_WORKER_LOCK = { lockDuration: 2_000, lockRenewTime: 600, stalledInterval: 1_000 } as const;
/**
 * The per-pool lock: short, and renewed while a pass runs, so a dead holder blocks its pool for at
 * most this long — less than the lowest time in which BullMQ can hand the dead holder's job to
 * another worker (lockDuration − lockRenewTime), so the recovered job normally finds it gone.
 */
export const POOL_LOCK_TTL_MS = 500;
const POOL_LOCK_RENEW_MS = 150;
/**
 * How often a scheduler-role process checks that its job schedulers still exist (one HGETALL
 * each): a Redis that lost its keys (restarted without persistence) gets them back within this.
 */
export const SCHEDULER_CHECK_MS = 3_000;

interface PairingJobResult {
  generation: number;
  more: boolean;
  skipped?: 'locked';
}

/**
 * Starts this process's workers: `pairing` (one job per tenant+pool), `game-creation`
 * (one per match) and the scheduler tick (widening, timeouts, recovery). Any number of
 * processes may run them side by side; correctness never relies on there being one.
 */
export async function startWorkers(options: StartWorkersOptions): Promise<Workers> {
  const { config, logger, store } = options;
  const roles = new Set<WorkerRole>(options.roles ?? ['pairing', 'game-creation', 'scheduler']);
  const resources = new Resources(logger);
  const redis = resources.redis(options.redis, redisTarget(config), { maxRetriesPerRequest: null });
  const db = resources.postgres(options.db, {
    connectionString: config.DATABASE_URL,
    max: databasePoolSizes(config.DATABASE_POOL_SIZE, 'worker').workers,
    applicationName: options.applicationName ?? 'mm-worker',
  });
  const liveGame = options.liveGame ?? liveGameApiFromConfig(config);
  const pairingQueue = createPairingQueue(redis, config.REDIS_PREFIX);
  const gameCreationQueue = createGameCreationQueue(redis, config);
  const tickQueue = createTickQueue(redis, config.REDIS_PREFIX);
  const reader = createQueueViewReader(redis, config.REDIS_PREFIX);
  const ctx: WorkerContext = { config, logger, store, gameCreationQueue, liveGame, now: options.now ?? Date.now };
  const workers: Worker[] = [];
  const registry = options.registry ?? createMetricsRegistry({ defaultMetrics: false });
  const metrics = createWorkerMetrics(registry);
  const gameCreationConcurrency = options.gameCreationConcurrency ?? 16;

  /** One game-creation attempt, measured: a job's, or the first one in-process. */
  const createGame = async (attempt: GameCreationAttempt, known?: LoadedMatch): Promise<GameCreationOutcome> => {
    const start = process.hrtime.bigint();
    try {
      const outcome = await createGameForMatch({ ...ctx, liveGame }, attempt, known);
      metrics.gameCreation(gameCreationMetricOutcome(outcome), secondsSince(start));
      return outcome;
    } catch (error) {
      metrics.gameCreation(error instanceof GameCreationRetry ? 'retry' : 'error', secondsSince(start));
      throw error;
    }
  };

  /*
   * The first attempt of a match's game in the process whose pass made the match, without a
   * job: a game-creation job costs ≈ 60 Redis commands (add, fetch, lock, finish, events) and
   * its BullMQ bookkeeping here, per match; and it decides on the match stream as the commit
   * left it, without reading it (a stale one conflicts and is read). Later attempts are jobs,
   * with the attempts left and the first backoff. A process killed meanwhile leaves the match
   * in CREATING_GAME: the scheduler tick's sweep gives it a job after
   * GAME_CREATION_REDRIVE_SECONDS (2 s; a job of a killed process came back after its lock and a
   * stalled check, ≈ 3 s), as it does for a lost enqueue; overlapping runs are safe (the match
   * stream decides, the game is keyed by the match id). Beyond `gameCreationConcurrency`
   * running here, or while closing: a job.
   */
  const startedGames = new Set<Promise<void>>();
  let closing = false;
  const startGame = async (tenantId: string, matchId: string, known?: LoadedMatch): Promise<void> => {
    if (closing || startedGames.size >= gameCreationConcurrency) {
      await enqueueGameCreation(gameCreationQueue, config, { tenantId, matchId });
      return;
    }
    const maxAttempts = Math.max(1, config.GAME_CREATION_ATTEMPTS);
    const run: Promise<void> = createGame({ tenantId, matchId, attempt: 1, maxAttempts }, known)
      .then(
        () => undefined,
        async (error: unknown) => {
          const retry = error instanceof GameCreationRetry;
          if (!retry) logger.error({ err: error, matchId, tenantId }, 'game creation failed: retrying it as a job');
          await enqueueGameCreation(
            gameCreationQueue,
            config,
            { tenantId, matchId, attemptsBefore: 1 },
            retry ? config.GAME_CREATION_BACKOFF_MS : 0,
          ).catch((enqueueError: unknown) =>
            logger.error(
              { err: enqueueError, matchId, tenantId },
              'could not queue the game creation retry (the scheduler tick re-drives the match)',
            ),
          );
        },
      )
      .finally(() => startedGames.delete(run));
    startedGames.add(run);
  };
  if (roles.has('pairing') && roles.has('game-creation') && (options.inlineGameCreation ?? true))
    ctx.startGame = startGame;
  const passCtx: PairingPassContext = { ...ctx, redis, reader, modeOf: poolModes(config.WAVE_POOLS) };
  observeQueues(registry, [pairingQueue, gameCreationQueue, tickQueue], logger);
  observePools(registry, reader, { now: ctx.now, timeControls: config.POOLS, logger });
  /** One pairing pass, measured. */
  const pass = async (tenantId: string, poolKey: string, entries?: QueueViewEntry[]): Promise<PassResult> => {
    const start = process.hrtime.bigint();
    const result = await runPairingPass(passCtx, { tenantId, poolKey }, entries);
    metrics.pass(poolKey, result, secondsSince(start));
    return result;
  };

  const processPairing = async (job: Job<PairingJobData>): Promise<PairingJobResult> => {
    const { tenantId, poolKey } = job.data;
    // Lock, generation and snapshot in one Redis round trip.
    const lock: PoolLock = {
      key: redisKeys(config.REDIS_PREFIX).poolLock(tenantId, poolKey),
      token: randomUUID(),
      generationKey: redisKeys(config.REDIS_PREFIX).generation(tenantId, poolKey),
    };
    // Without the players' recent games: the pass reads them once it knows it pairs.
    let first = await reader.lockAndSnapshot(tenantId, poolKey, { ...lock, ttlMs: POOL_LOCK_TTL_MS }, NO_HISTORY);
    if (!first.locked && job.stalledCounter > 0) {
      // This job was taken back from a worker that died while running it (stalled), and that
      // worker most likely held the pool lock: signals since then were folded into this job, so
      // nobody else will pass the pool. Wait out the dead holder's lock (at most its TTL) and try
      // once more; a live holder renews its lock and handles the pool itself.
      const ttl = await redis.pttl(lock.key);
      if (ttl > 0) await sleep(Math.min(ttl, POOL_LOCK_TTL_MS) + 10);
      first = await reader.lockAndSnapshot(tenantId, poolKey, { ...lock, ttlMs: POOL_LOCK_TTL_MS }, NO_HISTORY);
    }
    if (!first.locked) {
      // Another pass holds the pool. Its release checks the pool's generation atomically and
      // passes again if the pool changed (the change that signalled this job bumped the
      // generation before the signal), so this job has nothing left to do. Waiting and
      // retrying instead cost a delayed-job round trip and up to 100 ms for the new entry.
      // A holder that died keeps the lock until its TTL (its job, taken back as stalled, waits
      // for that); the scheduler tick signals again.
      return { generation: -1, more: false, skipped: 'locked' };
    }
    let released = false;
    const keeper = keepPoolLock(redis, lock, POOL_LOCK_TTL_MS, POOL_LOCK_RENEW_MS);
    try {
      let { generation, entries } = first;
      for (let round = 1; ; round++) {
        const result = await pass(tenantId, poolKey, entries);
        const last = result.more || round >= MAX_ROUNDS_PER_JOB;
        const after = await releasePoolLockIfUnchanged(redis, lock, last ? null : generation);
        released = after.released;
        if (last) {
          // Enough for one job: the pool's next job takes the rest (a signal while this job is
          // active is kept by the deduplication as the next job).
          if (result.more || after.generation !== generation) await signalPoolChanged(pairingQueue, tenantId, poolKey);
          return { generation, more: result.more };
        }
        if (released) return { generation, more: false };
        // The pool changed under the pass (a join, a cancel…): pass again, still holding the lock.
        ({ generation, entries } = await reader.read(tenantId, poolKey, NO_HISTORY));
      }
    } finally {
      keeper.stop();
      if (!released) await releasePoolLockIfUnchanged(redis, lock, null).catch(() => undefined);
    }
  };

  const processGameCreation = (job: Job<GameCreationJobData>): Promise<GameCreationOutcome> =>
    createGame({ tenantId: job.data.tenantId, matchId: job.data.matchId, ...gameCreationAttempt(job.data, job) });

  const tick = async (): Promise<{ signalled: number; sweep: SweepResult | null }> => {
    // Only pools where time alone can change the outcome get a pass: two or more entries
    // (windows widen, cool-downs end), an entry due for its timeout, or a wave pool (its wave
    // may be due). A lone entry that is not due would cost a pass for nothing — once a second
    // for every such pool of every tenant.
    const now = ctx.now();
    const dueBefore = now - config.MAX_QUEUE_TIME_SECONDS * 1000;
    const pools = (await reader.poolStats(await reader.activePools())).filter(
      (p) =>
        p.size >= 2 ||
        (p.oldestEnqueuedAt !== null && p.oldestEnqueuedAt <= dueBefore) ||
        (p.size >= 1 && passCtx.modeOf(p.poolKey).kind === 'wave'),
    );
    for (const { tenantId, poolKey } of pools) await signalPoolChanged(pairingQueue, tenantId, poolKey);
    const start = process.hrtime.bigint();
    const sweep = await sweepStuckMatches(ctx, db).catch((error: unknown) => {
      metrics.sweep(undefined, secondsSince(start));
      throw error;
    });
    metrics.sweep(sweep, secondsSince(start));
    return { signalled: pools.length, sweep };
  };

  // Shows in each job as `processedBy`: which process runs (or ran) it.
  const name = `${hostname()}:${process.pid}`;
  if (roles.has('pairing')) {
    const worker = new Worker<PairingJobData, PairingJobResult>(PAIRING_QUEUE, processPairing, {
      connection: redis,
      prefix: bullPrefix(config.REDIS_PREFIX, PAIRING_QUEUE),
      name,
      concurrency: Math.max(1, config.WORKER_CONCURRENCY),
      // A killed worker's pass is handed to another worker within 2 s, not the default 30–60 s:
      // the pool's deduplicated job blocks the pool while it looks active (new signals are only
      // kept as its successor).
      ...PAIRING_WORKER_LOCK,
      maxStalledCount: 10,
    });
    worker.on('failed', (job, error) =>
      logger.error({ err: error, pool: job?.data }, 'pairing job failed (the scheduler tick signals the pool again)'),
    );
    workers.push(worker);
  }

  if (roles.has('game-creation')) {
    const worker = new Worker<GameCreationJobData, GameCreationOutcome>(GAME_CREATION_QUEUE, processGameCreation, {
      connection: redis,
      prefix: bullPrefix(config.REDIS_PREFIX, GAME_CREATION_QUEUE),
      name,
      concurrency: gameCreationConcurrency,
      ...GAME_CREATION_WORKER_LOCK,
      maxStalledCount: 10,
    });
    worker.on('failed', (job, error) =>
      logger.warn({ err: error, match: job?.data, attemptsMade: job?.attemptsMade }, 'game creation attempt failed'),
    );
    workers.push(worker);
  }

  const upsertTick = () => upsertTickScheduler(tickQueue, config.WORKER_INTERVAL_SECONDS * 1000);
  let schedulerCheck: NodeJS.Timeout | undefined;
  let onReconnect: (() => void) | undefined;
  if (roles.has('scheduler')) {
    // The sweep reads the read models; the projector creates them too (idempotent, concurrency-safe).
    await migrateReadModels(db, config.READ_MODEL_SCHEMA);
    await upsertTick();
    const worker = new Worker(TICK_QUEUE, async () => tick(), {
      connection: redis,
      prefix: bullPrefix(config.REDIS_PREFIX, TICK_QUEUE),
      name,
      concurrency: 1,
      ...GAME_CREATION_WORKER_LOCK,
    });
    worker.on('failed', (_job, error) => logger.error({ err: error }, 'scheduler tick failed'));
    workers.push(worker);
    // The scheduler lives in Redis only: a Redis that lost its keys (restarted without
    // persistence) would stop widening, timeouts and every recovery until a worker restarted.
    // Every scheduler process re-creates it after a reconnect and whenever a check finds it gone.
    const ensureTick = async (why: string) => {
      if (await tickQueue.getJobScheduler(TICK_SCHEDULER_ID)) return;
      await upsertTick();
      logger.warn({ why }, 'scheduler tick was missing in Redis: re-created');
    };
    const ensure = (why: string) =>
      void ensureTick(why).catch((error: unknown) => logger.warn({ err: error }, 'could not check the scheduler tick'));
    onReconnect = () => ensure('redis reconnected');
    redis.on('ready', onReconnect);
    schedulerCheck = setInterval(() => ensure('periodic check'), options.schedulerCheckMs ?? SCHEDULER_CHECK_MS);
    schedulerCheck.unref();
  }

  for (const worker of workers) {
    worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
    observeWorker(registry, worker);
  }
  logger.info({ roles: [...roles], prefix: config.REDIS_PREFIX }, 'workers started');

  return {
    pairingQueue,
    gameCreationQueue,
    pass: (tenantId, poolKey) => pass(tenantId, poolKey),
    tick,
    registry,
    readinessChecks: {
      event_store: () => store.ping(),
      redis: () => redis.ping(),
      postgres: () => db.query('SELECT 1'),
    },
    async close() {
      clearInterval(schedulerCheck);
      if (onReconnect) redis.off('ready', onReconnect);
      // Worker#close waits for the running jobs and takes no new ones (graceful shutdown); the
      // passes still running queue their games as jobs, and first attempts under way finish.
      closing = true;
      await Promise.all(workers.map((w) => w.close()));
      await Promise.allSettled([...startedGames]);
      await Promise.all([pairingQueue.close(), gameCreationQueue.close(), tickQueue.close()]);
      await resources.close();
    },
  };
}

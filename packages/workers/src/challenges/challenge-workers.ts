import { hostname } from 'node:os';
import { type Config, databasePoolSizes } from '@mm/config';
import type { EventStore } from '@mm/event-store';
import { type RatingProvider, ratingProviderFromConfig } from '@mm/integrations';
import { observeQueues, observeWorker } from '@mm/metrics';
import { type ChallengeQueries, createChallengeQueries } from '@mm/projections';
import {
  bullPrefix,
  CHALLENGE_QUEUE,
  CHALLENGE_SWEEP_SCHEDULER_ID,
  type ChallengeJobData,
  createChallengeQueue,
  duplicateClient,
  type RedisClient,
  SWEEP_ACCEPTED_JOB,
  upsertChallengeSweepScheduler,
} from '@mm/redis';
import { Resources, redisTarget } from '@mm/runtime';
import { DelayedError, type Job, type Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { expireOverdueChallenges } from '../recovery/challenge-sweep.js';
import { driveChallenge, type GameCreationRequester } from './drive-challenge.js';

export interface ChallengeWorkersOptions {
  config: Config;
  logger: Logger;
  store: EventStore;
  /** Base connection; the worker uses its own duplicate (BullMQ needs blocking commands). @defaultValue a client on REDIS_URL */
  redis?: RedisClient;
  /** Read models, for the sweep. @defaultValue a pool on DATABASE_URL */
  db?: pg.Pool;
  /** @defaultValue rating-api from RATING_API_URL, else DEFAULT_RATING for everyone */
  ratings?: RatingProvider;
  /** Asked to create the game of a match completed here; the workers' scheduler re-drives it anyway. */
  gameCreation?: GameCreationRequester;
  /**
   * How often the sweep looks for accepts that stopped after their commit point and for pending
   * challenges whose expiry job was lost. @defaultValue 5000
   */
  sweepEveryMs?: number;
  /** An accepted challenge without a match younger than this is left to its own request. @defaultValue 30000 */
  acceptGraceMs?: number;
  /** A pending challenge this long past `expiresAt` is expired by the sweep (its job was lost). @defaultValue 2000 */
  expiryGraceMs?: number;
  /** How often the process checks that the sweep's job scheduler still exists in Redis. @defaultValue 3000 */
  schedulerCheckMs?: number;
  /** `application_name` of the PostgreSQL pool created here (not of a `db` given in). @defaultValue 'mm-worker' */
  applicationName?: string;
  /** Jobs run at once by this process. @defaultValue 4 */
  concurrency?: number;
  /** @defaultValue () => new Date() */
  clock?: () => Date;
  /** Where the challenge queue's gauges and job timings go (the process's registry). @defaultValue not measured */
  registry?: Registry;
}

export interface ChallengeWorkers {
  queue: Queue<ChallengeJobData>;
  close(): Promise<void>;
}

/**
 * The challenge workers: expiry jobs (one per challenge, due at `expiresAt`) append
 * `ChallengeExpired` and release players left reserved by an accept that never
 * committed; a periodic sweep completes accepts that stopped after `ChallengeAccepted`
 * (match and confirmations). Safe to run in any number of processes: every job is
 * idempotent and BullMQ hands each job to one worker at a time.
 */
export async function startChallengeWorkers(options: ChallengeWorkersOptions): Promise<ChallengeWorkers> {
  const { config, logger, store } = options;
  const clock = options.clock ?? (() => new Date());
  const resources = new Resources(logger);
  const base = resources.redis(options.redis, redisTarget(config), { maxRetriesPerRequest: null });
  const db = resources.postgres(options.db, {
    connectionString: config.DATABASE_URL,
    max: databasePoolSizes(config.DATABASE_POOL_SIZE, 'worker').challenges,
    applicationName: options.applicationName ?? 'mm-worker',
  });
  const queries: ChallengeQueries = createChallengeQueries(db, config.READ_MODEL_SCHEMA);
  const ratings = options.ratings ?? ratingProviderFromConfig(config, logger);
  const acceptGraceMs = options.acceptGraceMs ?? 30_000;
  const expiryGraceMs = options.expiryGraceMs ?? 2_000;

  const drive = (data: ChallengeJobData) =>
    driveChallenge(
      { store, ratings, now: clock(), ...(options.gameCreation ? { gameCreation: options.gameCreation } : {}) },
      data,
    );

  const processJob = async (job: Job<ChallengeJobData>, token?: string): Promise<string> => {
    if (job.name === SWEEP_ACCEPTED_JOB) {
      const stuck = await queries.acceptedWithoutMatch(new Date(clock().getTime() - acceptGraceMs));
      for (const challenge of stuck) {
        const result = await drive(challenge).catch((error: unknown) => {
          logger.warn({ err: error, ...challenge }, 'could not complete an accepted challenge');
          return null;
        });
        if (result) logger.info({ ...challenge, ...result }, 'completed an interrupted challenge accept');
      }
      // Pending challenges past their expiry whose expiry job is gone (Redis lost its keys, …).
      const overdue = await expireOverdueChallenges(
        { db, readModelSchema: config.READ_MODEL_SCHEMA, now: clock(), graceMs: expiryGraceMs, logger },
        drive,
      );
      return `swept ${stuck.length} accepted, ${overdue.expired} overdue`;
    }
    const result = await drive(job.data);
    if (result.outcome === 'not_due') {
      // Ran early (clock skew between API and worker): wait until the challenge is due.
      await job.moveToDelayed(Date.parse(result.expiresAt) + 50, token);
      throw new DelayedError();
    }
    logger.debug({ ...job.data, ...result }, 'challenge job done');
    return result.outcome;
  };

  const connection = resources.own('worker connection', duplicateClient(base, { maxRetriesPerRequest: null }), (c) =>
    c.disconnect(),
  );
  const worker = new Worker<ChallengeJobData, string>(CHALLENGE_QUEUE, processJob, {
    connection,
    prefix: bullPrefix(config.REDIS_PREFIX, CHALLENGE_QUEUE),
    name: `${hostname()}:${process.pid}`,
    concurrency: options.concurrency ?? 4,
    // A dead process's expiry jobs are taken back within 3 s instead of BullMQ's 30–60 s
    // (cost: one stalled-check script per second per process).
    lockDuration: 2_000,
    lockRenewTime: 600,
    stalledInterval: 1_000,
    maxStalledCount: 10,
  });
  worker.on('failed', (job, error) =>
    logger.warn({ err: error, jobId: job?.id, name: job?.name, data: job?.data }, 'challenge job failed'),
  );
  worker.on('error', (error) => logger.error({ err: error }, 'challenge worker error'));
  resources.onClose('challenge worker', () => worker.close());

  const queue = createChallengeQueue(base, config.REDIS_PREFIX);
  resources.onClose('challenge queue', () => queue.close());
  if (options.registry) {
    observeQueues(options.registry, [queue], logger);
    observeWorker(options.registry, worker);
  }
  const upsertSweep = () => upsertChallengeSweepScheduler(queue, options.sweepEveryMs ?? 5_000);
  await upsertSweep();
  await worker.waitUntilReady();
  // The sweep's scheduler lives in Redis only: re-create it after a reconnect and whenever a
  // periodic check (one HGETALL) finds it gone, e.g. after Redis restarted without persistence.
  const ensureSweep = (why: string) =>
    void (async () => {
      if (await queue.getJobScheduler(CHALLENGE_SWEEP_SCHEDULER_ID)) return;
      await upsertSweep();
      logger.warn({ why }, 'challenge sweep scheduler was missing in Redis: re-created');
    })().catch((error: unknown) => logger.warn({ err: error }, 'could not check the challenge sweep scheduler'));
  const onReconnect = () => ensureSweep('redis reconnected');
  base.on('ready', onReconnect);
  const check = setInterval(() => ensureSweep('periodic check'), options.schedulerCheckMs ?? 3_000);
  check.unref();
  resources.onClose('scheduler check', () => {
    clearInterval(check);
    base.off('ready', onReconnect);
  });

  return {
    queue,
    async close() {
      await resources.close();
    },
  };
}

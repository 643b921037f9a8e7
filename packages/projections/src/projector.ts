import { type Config, databasePoolSizes } from '@mm/config';
import type { EventStore } from '@mm/event-store';
import { isConnectionError } from '@mm/event-store/postgres';
import { createPairingQueue, type PairingJobData, type RedisClient, signalPoolChanged } from '@mm/redis';
import { Resources, redisTarget } from '@mm/runtime';
import type { Queue } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ProjectorMetrics } from './metrics.js';
import { migrateReadModels } from './postgres/migrate.js';
import { createReadModelProjection } from './postgres/read-model-projection.js';
import { type RetentionJob, startRetentionJob } from './postgres/retention.js';
import { createQueueViewProjection } from './redis/queue-view-projection.js';
import { type BatchProjection, type RunningProjection, runProjections } from './runner/projection-runner.js';

export interface ProjectorOptions {
  config: Config;
  logger: Logger;
  store: EventStore;
  /** @defaultValue a pool on DATABASE_URL */
  db?: pg.Pool;
  /** @defaultValue a client on REDIS_URL */
  redis?: RedisClient;
  /** Delay before a failed projection restarts (doubles up to 30 s). @defaultValue 500 */
  restartDelayMs?: number;
  /**
   * PostgreSQL `application_name` of the pool the projector creates (not of a given `db`), so
   * operators and tests can find its connections in `pg_stat_activity`. @defaultValue 'mm-projector'
   */
  applicationName?: string;
  /** Batch durations, recoveries and lag go there (created once per process: see apps/projector). @defaultValue not measured */
  metrics?: ProjectorMetrics;
}

/** `application_name` of the projector's PostgreSQL connections (its pool, and its event store in apps/projector). */
export const PROJECTOR_APPLICATION_NAME = 'mm-projector';

export interface Projector {
  /** Resolves once both projections have applied everything that existed at start. */
  caughtUp: Promise<void>;
  /** Resolves once both projections have applied the event at `position`. */
  waitFor(position: number): Promise<void>;
  /** What the ops server's `/ready` checks while this projector runs: its PostgreSQL and Redis. */
  readinessChecks: Record<string, () => Promise<unknown>>;
  close(): Promise<void>;
}

/**
 * apps/projector's work: the Postgres read models and the Redis queue views (plus the
 * "pool changed" signal to the pairing workers), each from its own checkpoint, fed by one
 * subscription. A projection that fails (database down, …) is restarted from its checkpoint
 * with backoff.
 */
export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const { config, logger, store } = options;
  const resources = new Resources(logger);
  const db = resources.postgres(options.db, {
    connectionString: config.DATABASE_URL,
    max: databasePoolSizes(config.DATABASE_POOL_SIZE, 'projector').readModels,
    applicationName: options.applicationName ?? PROJECTOR_APPLICATION_NAME,
  });
  const redis = resources.redis(options.redis, redisTarget(config), { maxRetriesPerRequest: null });
  await migrateReadModels(db, config.READ_MODEL_SCHEMA);
  const pairingQueue: Queue<PairingJobData> = resources.own(
    'pairing queue',
    createPairingQueue(redis, config.REDIS_PREFIX),
    (q) => q.close(),
  );
  // BullMQ re-emits the connection's errors (e.g. while Redis restarts); unheard, they would crash the process.
  pairingQueue.on('error', (error) => logger.warn({ err: error }, 'pairing queue error'));

  const projections: BatchProjection[] = [
    createReadModelProjection(db, config.READ_MODEL_SCHEMA),
    createQueueViewProjection({
      redis,
      prefix: config.REDIS_PREFIX,
      logger,
      onPoolChanged: (tenantId, poolKey) => signalPoolChanged(pairingQueue, tenantId, poolKey),
    }),
  ];

  options.metrics?.projections(projections.map((p) => p.name));
  let closed = false;
  let running: RunningProjection | undefined;

  // One subscription feeds both (each event read and parsed once). A lost database connection
  // or a lost Redis is recovered on the affected projection's own chain (see runProjections);
  // any other failure restarts both, each from its own checkpoint, with backoff.
  const initialDelay = options.restartDelayMs ?? 500;
  let backoff = initialDelay;
  const restartLater = () => {
    if (closed) return;
    const delay = backoff;
    backoff = Math.min(backoff * 2, 30_000);
    setTimeout(() => {
      if (closed) return;
      start().catch((error: unknown) => {
        logger.error({ err: error, retryInMs: backoff }, 'projections restart failed');
        restartLater();
      });
    }, delay).unref();
  };
  const start = async (): Promise<RunningProjection> => {
    const run = await runProjections(store, projections, {
      batchSize: config.PROJECTOR_BATCH_SIZE,
      isTransient: isConnectionError,
      onRecover: ({ projection, kind, error, retryInMs }) => {
        options.metrics?.recovery(projection, kind);
        logger[kind === 'reset' ? 'warn' : 'info'](
          { projection, err: error, retryInMs },
          kind === 'reset' ? 'projection lost its state; rebuilding it' : 'projection batch failed; retrying',
        );
      },
      ...(options.metrics
        ? { onBatch: ({ projection, events, seconds }) => options.metrics?.batch(projection, events, seconds) }
        : {}),
      onRecovered: (event) => logger.info(event, 'projection recovered'),
      onError: (error) => {
        if (closed) return;
        logger.error({ err: error, retryInMs: backoff }, 'projections failed; restarting');
        restartLater();
      },
    });
    running = run;
    void run.caughtUp.then(
      () => {
        backoff = initialDelay; // healthy again: the next failure starts the backoff over
        logger.info({ projections: projections.map((p) => p.name), position: run.position() }, 'projections caught up');
      },
      () => undefined,
    );
    return run;
  };

  const first = await start();
  // The lag gauges follow whichever run is current (a failed run is replaced by its restart).
  options.metrics?.follow({ positions: () => running?.positions() ?? {}, store });
  // Retention of the read models, on the leader only (this process), in short batches on the
  // pool's own connections: it never holds the projector's transactions (see retention.ts).
  const retention: RetentionJob | undefined =
    config.READ_MODEL_RETENTION_DAYS > 0
      ? startRetentionJob({
          db,
          schema: config.READ_MODEL_SCHEMA,
          retentionDays: config.READ_MODEL_RETENTION_DAYS,
          intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000,
          batchSize: config.RETENTION_BATCH_SIZE,
          onRun: (run) => {
            const deleted = run.deleted.queueEntries + run.deleted.matches + run.deleted.challenges;
            if (deleted > 0)
              logger.info({ ...run.deleted, cutoff: run.cutoff, batches: run.batches }, 'read-model retention');
          },
          onError: (error) => logger.warn({ err: error }, 'read-model retention failed; trying again next run'),
        })
      : undefined;
  const waitFor = async (position: number) => {
    for (;;) {
      try {
        await running!.waitFor(position);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50)); // failed run: wait for its restart
      }
    }
  };

  return {
    caughtUp: first.caughtUp,
    waitFor,
    readinessChecks: {
      postgres: () => db.query('SELECT 1'),
      redis: () => redis.ping(),
    },
    async close() {
      closed = true;
      options.metrics?.follow(undefined);
      await retention?.stop();
      await running?.close();
      await resources.close();
    },
  };
}

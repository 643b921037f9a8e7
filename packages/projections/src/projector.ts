import type { Config } from '@mm/config';
import type { EventStore } from '@mm/event-store';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import { migrateReadModels } from './postgres/migrate.js';
import { createReadModelProjection } from './postgres/read-model-projection.js';
import { createQueueViewProjection } from './redis/queue-view-projection.js';
import { type BatchProjection, type RunningProjection, runProjections } from './runner/projection-runner.js';
import { createPairingQueue, type PairingJobData, signalPoolChanged } from './signals/pairing-signal.js';

export interface ProjectorOptions {
  config: Config;
  logger: Logger;
  store: EventStore;
  /** @defaultValue a pool on DATABASE_URL */
  db?: pg.Pool;
  /** @defaultValue a client on REDIS_URL */
  redis?: Redis;
  /** Delay before a failed projection restarts (doubles up to 30 s). @defaultValue 500 */
  restartDelayMs?: number;
}

export interface Projector {
  /** Resolves once both projections have applied everything that existed at start. */
  caughtUp: Promise<void>;
  /** Resolves once both projections have applied the event at `position`. */
  waitFor(position: number): Promise<void>;
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
  const db = options.db ?? new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
  const redis = options.redis ?? new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  await migrateReadModels(db, config.READ_MODEL_SCHEMA);
  const pairingQueue: Queue<PairingJobData> = createPairingQueue(redis, config.REDIS_PREFIX);

  const projections: BatchProjection[] = [
    createReadModelProjection(db, config.READ_MODEL_SCHEMA),
    createQueueViewProjection({
      redis,
      prefix: config.REDIS_PREFIX,
      onPoolChanged: (tenantId, poolKey) => signalPoolChanged(pairingQueue, tenantId, poolKey),
    }),
  ];

  let closed = false;
  let running: RunningProjection | undefined;

  // One subscription feeds both (each event read and parsed once); a failure of either
  // restarts both, each from its own checkpoint, with backoff.
  const start = async (delay: number): Promise<RunningProjection> => {
    const run = await runProjections(store, projections, {
      batchSize: config.PROJECTOR_BATCH_SIZE,
      onError: (error) => {
        if (closed) return;
        const next = Math.min(delay * 2, 30_000);
        logger.error({ err: error, retryInMs: delay }, 'projections failed; restarting');
        setTimeout(() => {
          if (!closed) void start(next).catch((e: unknown) => logger.error({ err: e }, 'restart failed'));
        }, delay).unref();
      },
    });
    running = run;
    void run.caughtUp.then(
      () =>
        logger.info({ projections: projections.map((p) => p.name), position: run.position() }, 'projections caught up'),
      () => undefined,
    );
    return run;
  };

  const first = await start(options.restartDelayMs ?? 500);
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
    async close() {
      closed = true;
      await running?.close();
      await pairingQueue.close();
      if (!options.redis) redis.disconnect();
      if (!options.db) await db.end();
    },
  };
}

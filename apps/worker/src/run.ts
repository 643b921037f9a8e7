import { ConfigError, databasePoolSizes, loadConfig, opsPort } from '@mm/config';
import { createEventStore } from '@mm/event-store';
import { createMetricsRegistry, instrumentEventStore, type ReadinessCheck, startOpsServer } from '@mm/metrics';
import { gameCreationRequester } from '@mm/redis';
import { startWorkers, type WorkerRole, type Workers } from '@mm/workers';
import { startChallengeWorkers } from '@mm/workers/challenges';
import { pino } from 'pino';

/** Every PostgreSQL connection of this process carries this name (pg_stat_activity, operators, tests). */
const APPLICATION_NAME = 'mm-worker';

/**
 * apps/worker: the pairing, game-creation and scheduler workers. Wiring and lifecycle only;
 * the logic is in packages/workers. Run as many as you like. `WORKER_ROLES` (comma list of
 * pairing, game-creation, scheduler; default all) lets a deployment split them.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'matchmaking-worker', pid: process.pid } });
  const registry = createMetricsRegistry();
  const rawStore = await createEventStore(config.eventStoreUrl, {
    postgres: {
      schema: config.EVENT_STORE_SCHEMA,
      // Its share of DATABASE_POOL_SIZE; the pairing and challenge workers' pools take the rest.
      poolSize: databasePoolSizes(config.DATABASE_POOL_SIZE, 'worker').eventStore,
      applicationName: APPLICATION_NAME,
      dataCompression: config.EVENT_DATA_COMPRESSION ? {} : false,
    },
  });
  const store = instrumentEventStore(rawStore, registry);
  // /metrics, /health and /ready on the ops port, from the start: /ready says "starting" until the workers run.
  let workers: Workers | undefined;
  const starting: Record<string, ReadinessCheck> = { workers: () => Promise.reject(new Error('starting')) };
  const ops = await startOpsServer({
    registry,
    port: opsPort(config, 'worker'),
    host: config.OPS_HOST,
    checks: () => workers?.readinessChecks ?? starting,
    logger,
  });
  logger.info({ port: ops.port }, 'ops server listening (/metrics, /health, /ready)');
  const roles = process.env.WORKER_ROLES?.split(',')
    .map((r) => r.trim())
    .filter(Boolean) as WorkerRole[] | undefined;

  // Signals are handled from the start: a SIGTERM while starting up still shuts down cleanly.
  const running: { close(): Promise<void> }[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing running jobs, taking no new ones');
    // A job longer than this is abandoned; BullMQ hands it to another worker as stalled.
    setTimeout(() => process.exit(1), 30_000).unref();
    await Promise.all(running.map((r) => r.close()));
    await store.close();
    await ops.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const started = await startWorkers({
    config,
    logger,
    store,
    registry,
    applicationName: APPLICATION_NAME,
    ...(roles?.length ? { roles } : {}),
  });
  running.push(started);
  // Challenge expiry and accept completion; completed challenge matches go to our game-creation queue.
  running.push(
    await startChallengeWorkers({
      config,
      logger,
      store,
      applicationName: APPLICATION_NAME,
      registry,
      gameCreation: gameCreationRequester(started.gameCreationQueue, config),
    }),
  );
  workers = started;
  if (stopping) return; // a signal arrived while starting: stop() closes what was started
  logger.info({ roles: roles ?? 'all' }, 'worker process started');
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

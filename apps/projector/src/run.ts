import { ConfigError, databasePoolSizes, loadConfig, opsPort } from '@mm/config';
import { createEventStore } from '@mm/event-store';
import { createMetricsRegistry, startOpsServer } from '@mm/metrics';
import {
  acquireLeadership,
  createProjectorMetrics,
  PROJECTOR_APPLICATION_NAME,
  type Projector,
  startProjector,
} from '@mm/projections';
import { pino } from 'pino';

/**
 * apps/projector: builds the read models and queue views from the event log. Run two (or more)
 * for a hot standby: one leads (a PostgreSQL advisory lock per read-model schema and Redis
 * prefix), the others wait and take over within ≈ 200 ms of its death, from its checkpoints.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'matchmaking-projector' } });
  const store = await createEventStore(config.eventStoreUrl, {
    // Named like the projector's read-model pool: operators find (or terminate) all of its connections by one name.
    // Its share of DATABASE_POOL_SIZE; the read models' pool (startProjector) takes the rest.
    postgres: {
      schema: config.EVENT_STORE_SCHEMA,
      poolSize: databasePoolSizes(config.DATABASE_POOL_SIZE, 'projector').eventStore,
      applicationName: PROJECTOR_APPLICATION_NAME,
      dataCompression: config.EVENT_DATA_COMPRESSION ? {} : false,
      minReadIntervalMs: config.PROJECTOR_READ_INTERVAL_MS,
    },
  });
  const stopping = new AbortController();
  let projector: Projector | undefined;
  let release: (() => Promise<void>) | undefined;
  // /metrics, /health and /ready on the ops port. A standby is ready (it is there to take over);
  // `role` says which it is, and the lag gauges are the leader's.
  const registry = createMetricsRegistry();
  const metrics = createProjectorMetrics(registry, logger);
  const ops = await startOpsServer({
    registry,
    port: opsPort(config, 'projector'),
    host: config.OPS_HOST,
    checks: () => ({ event_store: () => store.ping(), ...projector?.readinessChecks }),
    info: () => ({ role: projector ? 'leader' : 'standby' }),
    logger,
  });
  logger.info({ port: ops.port }, 'ops server listening (/metrics, /health, /ready)');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stopping.abort();
    await projector?.close();
    await release?.();
    await store.close();
    await ops.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  for (let term = 1; !stopping.signal.aborted; term++) {
    const leadership = await acquireLeadership({
      connectionString: config.DATABASE_URL,
      name: `projector:${config.READ_MODEL_SCHEMA}:${config.REDIS_PREFIX}`,
      applicationName: PROJECTOR_APPLICATION_NAME,
      signal: stopping.signal,
      onStandby: () => logger.info('projector standby: another projector leads; taking over when it stops'),
    }).catch((error: unknown) => {
      if (stopping.signal.aborted) return undefined;
      throw error;
    });
    if (!leadership) return;
    release = leadership.release;
    projector = await startProjector({ config, logger, store, metrics });
    metrics.leading(true);
    logger.info({ term }, term === 1 ? 'projector started' : 'projector leading again');
    const error = await leadership.lost;
    if (stopping.signal.aborted) return;
    // The lock's session ended (PostgreSQL restarted, the connection was terminated): another
    // projector may lead now, so this one stops writing at once and competes for the lock again.
    logger.warn({ err: error }, 'projector lost its lock: stopping its projections until it leads again');
    await projector.close().catch((closeError: unknown) => logger.warn({ err: closeError }, 'projector close failed'));
    projector = undefined;
    metrics.leading(false);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

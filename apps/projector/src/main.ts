import { ConfigError, loadConfig } from '@mm/config';
import { createEventStore } from '@mm/event-store';
import { PROJECTOR_APPLICATION_NAME, startProjector } from '@mm/projections';
import { pino } from 'pino';

/** apps/projector: builds the read models and queue views from the event log. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'matchmaking-projector' } });
  const store = await createEventStore(config.eventStoreUrl, {
    // Named like the projector's read-model pool: operators find (or terminate) all of its connections by one name.
    postgres: { schema: config.EVENT_STORE_SCHEMA, poolSize: 4, applicationName: PROJECTOR_APPLICATION_NAME },
  });
  const projector = await startProjector({ config, logger, store });
  logger.info('projector started');

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await projector.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

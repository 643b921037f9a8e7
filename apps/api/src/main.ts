import { ConfigError, loadConfig } from '@mm/config';
import { buildApi } from '@mm/http-api';
import { pino } from 'pino';

/** apps/api: the command and query HTTP API. Wiring and lifecycle only; the logic is in packages/. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'matchmaking-api' } });
  const api = await buildApi(config, logger);
  const server = api.app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'matchmaking API listening'));
  server.keepAliveTimeout = 65_000;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close(() => {
      void api.close().then(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

import { ConfigError, loadConfig, opsPort } from '@mm/config';
import { buildApi } from '@mm/http-api';
import { startOpsServer } from '@mm/metrics';
import { pino } from 'pino';

/** apps/api: the command and query HTTP API. Wiring and lifecycle only; the logic is in packages/. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'matchmaking-api' } });
  const api = await buildApi(config, logger);
  const server = api.app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'matchmaking API listening'));
  server.keepAliveTimeout = 65_000;
  // /metrics, /health and /ready on the ops port: metrics are never served on the public port.
  const ops = await startOpsServer({
    registry: api.registry,
    port: opsPort(config, 'api'),
    host: config.OPS_HOST,
    checks: api.readinessChecks,
    logger,
  });
  logger.info({ port: ops.port }, 'ops server listening (/metrics, /health, /ready)');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close(() => {
      void Promise.all([api.close(), ops.close()]).then(() => process.exit(0));
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

import { pino } from 'pino';
import { loadSimConfig, SimConfigError } from './config.js';
import { startSim } from './sim.js';

/** apps/live-game-sim: a live-game-api stand-in for local runs and tests. Wiring only. */
async function main(): Promise<void> {
  const config = loadSimConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'live-game-sim' } });
  const sim = await startSim(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void sim.close().then(() => process.exit(0));
    setTimeout(() => process.exit(1), 5_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof SimConfigError ? error.message : error);
  process.exit(1);
});

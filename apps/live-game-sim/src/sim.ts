import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '@mm/testing/random';
import type { Logger } from 'pino';
import type { SimConfig } from './config.js';
import { createFaultPlan, type FaultPlan } from './faults/fault-plan.js';
import { GameRegistry } from './games/game-registry.js';
import { createSimApp } from './http/app.js';

export interface RunningSim {
  url: string;
  port: number;
  registry: GameRegistry;
  faults: FaultPlan;
  close(): Promise<void>;
}

/** Starts the simulator's HTTP server from a {@link SimConfig}. */
export async function startSim(config: SimConfig, logger: Logger): Promise<RunningSim> {
  const seed = config.SIM_SEED ?? String(Date.now() ^ process.pid);
  const registry = new GameRegistry({ onePerPlayer: config.SIM_ONE_GAME_PER_PLAYER });
  const faults = createFaultPlan(
    {
      reject: config.SIM_REJECT_RATE,
      error: config.SIM_ERROR_RATE,
      timeout: config.SIM_TIMEOUT_RATE,
      duplicate: config.SIM_DUPLICATE_RATE,
    },
    { baseMs: config.SIM_LATENCY_MS, jitterMs: config.SIM_LATENCY_JITTER_MS },
    seededRandom(seed),
  );
  const sim = createSimApp({ registry, faults, logger, timeoutMs: config.SIM_TIMEOUT_MS, token: config.SIM_TOKEN });
  const server: Server = sim.app.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info(
    {
      port,
      seed,
      faults: {
        error: config.SIM_ERROR_RATE,
        timeout: config.SIM_TIMEOUT_RATE,
        duplicate: config.SIM_DUPLICATE_RATE,
        reject: config.SIM_REJECT_RATE,
      },
      latencyMs: config.SIM_LATENCY_MS,
      jitterMs: config.SIM_LATENCY_JITTER_MS,
    },
    'live-game-sim listening (in-memory test double, not live-game-api)',
  );
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    registry,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        sim.releaseHanging();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

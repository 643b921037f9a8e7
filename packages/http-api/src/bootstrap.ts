import { type Config, databasePoolSizes } from '@mm/config';
import { createEventStore, type EventStore } from '@mm/event-store';
import { liveGameApiFromConfig, ratingProviderFromConfig } from '@mm/integrations';
import { createMetricsRegistry, instrumentEventStore, type ReadinessCheck } from '@mm/metrics';
import { createChallengeQueries, createQueueQueries, createQueueViewReader, migrateReadModels } from '@mm/projections';
import {
  createChallengeQueue,
  createGameCreationQueue,
  createPairingQueue,
  createTickQueue,
  enqueueGameCreation,
  scheduleChallengeExpiry,
} from '@mm/redis';
import { Resources, redisTarget } from '@mm/runtime';
import type express from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createApp } from './app.js';
import { createAuthenticator } from './auth/authenticator.js';
import type { ApiDependencies } from './dependencies.js';
import { startIdempotencyJanitor } from './idempotency/idempotency.js';
import { migrateApiSchema } from './migrate.js';
import { readinessChecks } from './routes/health.js';

export interface Api {
  app: express.Express;
  deps: ApiDependencies;
  /** The API's metrics (HTTP, event store, process): serve them on the ops port, not the public one. */
  registry: Registry;
  /** What `/ready` checks (event store, Redis, PostgreSQL), for the ops server's `/ready`. */
  readinessChecks: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

/** Every PostgreSQL connection the API opens carries this name (pg_stat_activity, operators, fault tests). */
export const API_APPLICATION_NAME = 'mm-api';

/** Builds the API from the configuration: adapters, migrations, then the Express app. */
export async function buildApi(config: Config, logger: Logger, overrides: Partial<ApiDependencies> = {}): Promise<Api> {
  const resources = new Resources(logger);
  // DATABASE_POOL_SIZE is the API process's total, split between the event store and the read models.
  const poolSizes = databasePoolSizes(config.DATABASE_POOL_SIZE, 'api');
  const registry = overrides.registry ?? createMetricsRegistry();
  const madeStore: EventStore =
    overrides.store ??
    resources.own(
      'event store',
      await createEventStore(config.eventStoreUrl, {
        postgres: {
          schema: config.EVENT_STORE_SCHEMA,
          poolSize: poolSizes.eventStore,
          applicationName: API_APPLICATION_NAME,
          dataCompression: config.EVENT_DATA_COMPRESSION ? {} : false,
        },
      }),
      (s) => s.close(),
    );
  // Append latency by outcome, whichever adapter the store is.
  const store = instrumentEventStore(madeStore, registry);
  const db = resources.postgres(overrides.db, {
    connectionString: config.DATABASE_URL,
    max: poolSizes.readModels,
    applicationName: API_APPLICATION_NAME,
    // A request waits at most this long for a connection while PostgreSQL is away (then 503).
    connectionTimeoutMillis: 2000,
  });
  // No offline queue: while Redis is away its commands fail fast (ioredis reconnects by itself).
  const redis = resources.redis(overrides.redis, redisTarget(config), {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: false,
  });

  await migrateReadModels(db, config.READ_MODEL_SCHEMA);
  await migrateApiSchema(db, config.API_SCHEMA);
  const stopJanitor = startIdempotencyJanitor(db, config.API_SCHEMA);
  resources.onClose('idempotency janitor', stopJanitor);
  // Expiry jobs of issued challenges, run by the challenge workers (packages/workers/src/challenges).
  const challengeQueue = resources.own('challenge queue', createChallengeQueue(redis, config.REDIS_PREFIX), (q) =>
    q.close(),
  );
  // Game creation of accepted challenges' matches, run by the workers' game-creation queue.
  const gameCreationQueue = resources.own('game-creation queue', createGameCreationQueue(redis, config), (q) =>
    q.close(),
  );
  // Shown (read-only: the service drives them) in the queue UI next to the two above.
  const pairingQueue = resources.own('pairing queue', createPairingQueue(redis, config.REDIS_PREFIX), (q) => q.close());
  const tickQueue = resources.own('tick queue', createTickQueue(redis, config.REDIS_PREFIX), (q) => q.close());
  for (const queue of [challengeQueue, gameCreationQueue, pairingQueue, tickQueue])
    queue.on('error', (error) => logger.warn({ err: error, queue: queue.name }, 'queue error'));

  const authenticate = createAuthenticator({
    ...(config.JWT_SECRET ? { secret: config.JWT_SECRET } : {}),
    ...(config.JWT_PUBLIC_KEY ? { publicKey: config.JWT_PUBLIC_KEY } : {}),
    ...(config.JWT_JWKS_URL
      ? {
          jwks: {
            url: config.JWT_JWKS_URL,
            cacheSeconds: config.JWT_JWKS_CACHE_SECONDS,
            cooldownSeconds: config.JWT_JWKS_COOLDOWN_SECONDS,
            timeoutSeconds: config.JWT_JWKS_TIMEOUT_SECONDS,
          },
        }
      : {}),
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
  });
  // A wrong or unreachable JWT_JWKS_URL shows in the log at start-up, not only with the first
  // token that needs its keys (those get 503 AUTH_UNAVAILABLE until the provider answers).
  authenticate.fetchKeys?.().then(
    (keys) => logger.info({ keys }, 'JWKS fetched from JWT_JWKS_URL'),
    (error: unknown) => logger.warn({ err: error }, 'JWKS could not be fetched; retried when a token needs it'),
  );

  const deps: ApiDependencies = {
    config,
    logger,
    db,
    redis,
    readModelSchema: config.READ_MODEL_SCHEMA,
    apiSchema: config.API_SCHEMA,
    queueViews: createQueueViewReader(redis, config.REDIS_PREFIX),
    queries: createQueueQueries(db, config.READ_MODEL_SCHEMA),
    challengeQueries: createChallengeQueries(db, config.READ_MODEL_SCHEMA),
    challengeExpiry: {
      schedule: (tenantId, challengeId, expiresAt) =>
        scheduleChallengeExpiry(challengeQueue, challengeId, tenantId, expiresAt),
    },
    gameCreation: {
      request: (tenantId, matchId) => enqueueGameCreation(gameCreationQueue, config, { tenantId, matchId }),
    },
    ratings: ratingProviderFromConfig(config, logger),
    liveGame: liveGameApiFromConfig(config),
    authenticate,
    registry,
    queueUi: {
      queues: [
        { queue: gameCreationQueue },
        { queue: challengeQueue },
        { queue: pairingQueue, readOnly: true },
        { queue: tickQueue, readOnly: true },
      ],
    },
    ...overrides,
    store, // the instrumented one, also around a store given in overrides
  };
  return {
    app: createApp(deps),
    deps,
    registry,
    readinessChecks: readinessChecks(deps),
    close: () => resources.close(),
  };
}

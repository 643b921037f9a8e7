import type { AddressInfo } from 'node:net';
import { type Config, loadConfig } from '@mm/config';
import { streamCategory } from '@mm/contracts';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { matchmakingCategories, type Projector, startProjector } from '@mm/projections';
import {
  createTestRedis,
  createTestSchema,
  deleteRedisPrefix,
  type HttpDouble,
  json,
  randomRedisPrefix,
  startHttpDouble,
  TEST_JWT_AUDIENCE,
  TEST_JWT_ISSUER,
  TEST_JWT_SECRET,
  type TestSchema,
  testRsaKeys,
} from '@mm/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { type Api, buildApi } from '../src/bootstrap.js';
import type { ApiDependencies } from '../src/dependencies.js';

/**
 * The whole API over real HTTP, PostgreSQL and Redis, with the projector running in the
 * same process. live-game-api and rating-api (services we do not own) are HTTP doubles.
 */
export interface TestStack {
  url: string;
  config: Config;
  store: EventStore;
  db: TestSchema;
  redis: Redis;
  prefix: string;
  api: Api;
  projector: Projector;
  liveGame: HttpDouble;
  ratingApi: HttpDouble;
  /** Waits until the projector has applied everything appended so far. */
  settle(): Promise<void>;
  /** Every event in the store. */
  allEvents(): Promise<Awaited<ReturnType<EventStore['readAll']>>>;
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startTestStack(
  env: Record<string, string> = {},
  overrides: Partial<ApiDependencies> = {},
): Promise<TestStack> {
  const db = await createTestSchema('api');
  const prefix = randomRedisPrefix('api');
  const redis = createTestRedis();
  const liveGame = await startHttpDouble();
  liveGame.handle = (_req, res) => json(res, 404, {});
  const ratingApi = await startHttpDouble();
  ratingApi.handle = (_req, res) => json(res, 200, { rating: 1500 });
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.connectionString,
    EVENT_STORE_SCHEMA: db.schema,
    READ_MODEL_SCHEMA: db.schema,
    API_SCHEMA: db.schema,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    JWT_PUBLIC_KEY: testRsaKeys().publicKey,
    JWT_ISSUER: TEST_JWT_ISSUER,
    JWT_AUDIENCE: TEST_JWT_AUDIENCE,
    LIVE_GAME_API_URL: liveGame.url,
    LIVE_GAME_API_TIMEOUT_SECONDS: '2',
    RATING_API_URL: ratingApi.url,
    RATING_API_TIMEOUT_SECONDS: '2',
    RATING_CACHE_TTL_SECONDS: '0',
    ...env,
  });
  const logger = overrides.logger ?? pino({ level: 'silent' });
  // The postgres event store in the test schema, unless the caller brings another adapter.
  const store =
    overrides.store ??
    (await createPostgresEventStore({
      connectionString: db.connectionString,
      schema: db.schema,
      poolSize: 5,
    }));
  const api = await buildApi(config, logger, { store, db: db.pool, redis, ...overrides });
  const projector = await startProjector({ config, logger, store, db: db.pool, redis });
  const server = api.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const allEvents = async () => {
    const out = [];
    let after = -1;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 1000 });
      if (page.length === 0) return out;
      out.push(...page);
      after = page[page.length - 1]!.position;
    }
  };

  return {
    url,
    config,
    store,
    db,
    redis,
    prefix,
    api,
    projector,
    liveGame,
    ratingApi,
    allEvents,
    async settle() {
      // The last event the projector follows (pairing pass records on pool streams are not its).
      const followed = matchmakingCategories.categories ?? [];
      const events = await allEvents();
      const last = events.filter((e) => followed.includes(streamCategory(e.streamName))).at(-1);
      if (last) await projector.waitFor(last.position);
    },
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(url + path, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await projector.close();
      await api.close();
      await store.close();
      await deleteRedisPrefix(redis, prefix);
      redis.disconnect();
      await liveGame.close();
      await ratingApi.close();
      await db.drop();
    },
  };
}

import { type Config, loadConfig } from '@mm/config';
import { makePool, playerStream, streamCategory } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import type { EventStore, RecordedEvent } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { matchmakingCategories, type Projector, startProjector } from '@mm/projections';
import { createGameCreationQueue, scanKeys, unlinkKeys } from '@mm/redis';
import { createRedisClient, redisTarget } from '@mm/runtime';
import {
  createTestRedis,
  createTestSchema,
  type HttpDouble,
  json,
  randomRedisPrefix,
  startHttpDouble,
  type TestSchema,
} from '@mm/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { WorkerContext } from '../src/context.js';
import { type StartWorkersOptions, startWorkers, type Workers } from '../src/start-workers.js';

export const TENANT = 'tenant-w';
export const POOL = makePool('3+0', 'rated');

/**
 * The workers over real PostgreSQL (event store + read models), Redis and BullMQ, with the
 * projector running in the same process and live-game-api as an HTTP double. One per test
 * file (fresh schema and Redis prefix). Workers are started on demand, any number of them.
 */
export interface WorkerStack {
  config: Config;
  store: EventStore;
  db: TestSchema;
  /** A Redis Cluster client when `REDIS_CLUSTER_NODES` is set (typed as one server for the tests that use one). */
  redis: Redis;
  prefix: string;
  projector: Projector;
  liveGame: HttpDouble;
  startWorkers(options?: Partial<StartWorkersOptions>): Promise<Workers>;
  /** A worker context on this stack (silent logger, its own game-creation queue, closed by `stop()`). */
  context(): WorkerContext;
  join(userId: string, rating: number, options?: { entryId?: string; enqueuedAt?: number }): Promise<string>;
  cancel(userId: string, entryId: string): Promise<boolean>;
  events(): Promise<RecordedEvent[]>;
  settle(): Promise<void>;
  /** Polls `check` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
  until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

let gameCounter = 0;

export async function startWorkerStack(env: Record<string, string> = {}): Promise<WorkerStack> {
  const db = await createTestSchema('workers');
  const prefix = randomRedisPrefix('workers');
  const liveGame = await startHttpDouble();
  const games = new Map<string, string>();
  // An idempotent live-game-api: the same Idempotency-Key gets the same game.
  liveGame.handle = (req, res) => {
    const key = String((req.body as { metadata?: { match_id?: string } } | null)?.metadata?.match_id ?? '');
    if (req.method !== 'POST' || req.url !== '/internal/games') return json(res, 404, {});
    let gameId = games.get(key);
    if (!gameId) {
      gameId = `game-${++gameCounter}`;
      games.set(key, gameId);
    }
    json(res, 201, { game_id: gameId });
  };
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.connectionString,
    EVENT_STORE_SCHEMA: db.schema,
    READ_MODEL_SCHEMA: db.schema,
    API_SCHEMA: db.schema,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    LIVE_GAME_API_URL: liveGame.url,
    LIVE_GAME_API_TIMEOUT_SECONDS: '1',
    GAME_CREATION_ATTEMPTS: '3',
    GAME_CREATION_BACKOFF_MS: '20',
    WORKER_INTERVAL_SECONDS: '0.5',
    CLAIM_RECOVERY_SECONDS: '1',
    ...env,
  });
  const redis = config.REDIS_CLUSTER_NODES.length
    ? (createRedisClient(redisTarget(config), { maxRetriesPerRequest: null }) as unknown as Redis)
    : createTestRedis();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const store = await createPostgresEventStore({
    connectionString: db.connectionString,
    schema: db.schema,
    poolSize: 8,
  });
  const projector = await startProjector({ config, logger, store, db: db.pool, redis });
  const started: Workers[] = [];
  const contexts: WorkerContext[] = [];

  const events = async () => {
    const out: RecordedEvent[] = [];
    let after = -1;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 1000 });
      if (page.length === 0) return out;
      out.push(...page);
      after = page.at(-1)!.position;
    }
  };
  const metadata = (userId: string) => ({
    tenantId: TENANT,
    correlationId: `test-${userId}`,
    causationId: null,
    actor: { type: 'user' as const, id: userId },
  });

  return {
    config,
    store,
    db,
    redis,
    prefix,
    projector,
    liveGame,
    async startWorkers(options = {}) {
      const workers = await startWorkers({ config, logger, store, redis, db: db.pool, ...options });
      started.push(workers);
      return workers;
    },
    context() {
      const ctx: WorkerContext = {
        config,
        logger: pino({ level: 'silent' }),
        store,
        gameCreationQueue: createGameCreationQueue(redis, config),
        now: Date.now,
      };
      contexts.push(ctx);
      return ctx;
    },
    async join(userId, rating, options = {}) {
      const entryId = options.entryId ?? `entry-${userId}-${Math.random().toString(36).slice(2, 8)}`;
      const result = await handleCommand({
        store,
        streamName: playerStream(TENANT, userId),
        decider: playerDecider,
        command: {
          type: 'JoinQueue',
          userId,
          queueEntryId: entryId,
          pool: POOL,
          rating,
          ratingSource: 'default',
          ratingRange: null,
          now: new Date(options.enqueuedAt ?? Date.now()).toISOString(),
        },
        metadata: metadata(userId),
      });
      if (!result.ok) throw new Error(`join ${userId}: ${result.error.code}`);
      return entryId;
    },
    async cancel(userId, entryId) {
      const result = await handleCommand({
        store,
        streamName: playerStream(TENANT, userId),
        decider: playerDecider,
        command: { type: 'CancelQueueEntry', userId, queueEntryId: entryId, now: new Date().toISOString() },
        metadata: metadata(userId),
      });
      return result.ok;
    },
    events,
    async settle() {
      // The last event the projector follows (pairing pass records on pool streams are not its).
      const followed = matchmakingCategories.categories ?? [];
      const last = (await events()).filter((e) => followed.includes(streamCategory(e.streamName))).at(-1);
      if (last) await projector.waitFor(last.position);
    },
    async until(check, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await Promise.all(started.map((w) => w.close()));
      await Promise.all(contexts.map((ctx) => ctx.gameCreationQueue.close()));
      await projector.close();
      await store.close();
      await scanKeys(redis, `${prefix}*`, (keys) => unlinkKeys(redis, keys)); // every primary of a cluster
      redis.disconnect();
      await liveGame.close();
      await db.drop();
    },
  };
}

/** Events of one type, with their data typed loosely for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests read event data loosely
export const ofType = (events: RecordedEvent[], type: string): (RecordedEvent & { data: any })[] =>
  // biome-ignore lint/suspicious/noExplicitAny: see above
  events.filter((e) => e.type === type) as (RecordedEvent & { data: any })[];

/** The first `MatchCreated` (its data) with a player whose user id starts with `prefix`, if any. */
export const matchWith = (events: RecordedEvent[], prefix: string) =>
  ofType(events, 'MatchCreated').find((m) =>
    [m.data.white.userId, m.data.black.userId].some((id: string) => id.startsWith(prefix)),
  )?.data;

/**
 * The store with its append calls recorded by method. `multi: false` hides `appendToStreams`,
 * so callers take the path of a store without multi-stream transactions (EventStoreDB).
 */
export const countingStore = (store: EventStore, multi = true): { calls: string[]; store: EventStore } => {
  const calls: string[] = [];
  const counted: EventStore = {
    ...store,
    appendToStream: (...args) => {
      calls.push('appendToStream');
      return store.appendToStream(...args);
    },
    appendToStreams: multi
      ? (appends) => {
          calls.push('appendToStreams');
          return store.appendToStreams!(appends);
        }
      : undefined,
  };
  return { calls, store: counted };
};

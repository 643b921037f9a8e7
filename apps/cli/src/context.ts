import { type Config, databasePoolSizes, loadConfig } from '@mm/config';
import { createEventStore, type EventStore } from '@mm/event-store';
import { readManifest, withArchives } from '@mm/event-store/archive';
import { quoteIdent, ReplayInputError } from '@mm/replay';
import { createRedisClient, type RedisClient, redisTarget } from '@mm/runtime';
import pg from 'pg';

/** What a command needs, opened on first use and closed by {@link CliContext.close}. */
export class CliContext {
  readonly config: Config;
  private pool: pg.Pool | undefined;
  private eventStore: EventStore | undefined;
  private redisClient: RedisClient | undefined;

  constructor(env: Record<string, string | undefined> = process.env) {
    this.config = loadConfig(env);
  }

  /** PostgreSQL of the read models (DATABASE_URL). */
  db(): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({
        connectionString: this.config.DATABASE_URL,
        max: databasePoolSizes(this.config.DATABASE_POOL_SIZE, 'cli').readModels,
        application_name: 'mm-cli',
        connectionTimeoutMillis: 5000,
      });
      this.pool.on('error', () => undefined); // an idle connection dropped: the next query reconnects
    }
    return this.pool;
  }

  /** The event store (EVENT_STORE_URL, default DATABASE_URL); never creates an empty one. */
  async store(): Promise<EventStore> {
    if (this.eventStore) return this.eventStore;
    const url = this.config.eventStoreUrl;
    const schema = this.config.EVENT_STORE_SCHEMA;
    if (/^postgres(ql)?:\/\//i.test(url)) {
      const probe = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
      probe.on('error', () => undefined);
      try {
        const { rows } = await probe.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [
          `${quoteIdent(schema)}.events`,
        ]);
        if (!rows[0]?.ok)
          throw new ReplayInputError(
            `no event store in schema ${schema} of ${redact(url)}`,
            'check EVENT_STORE_URL / DATABASE_URL and EVENT_STORE_SCHEMA',
          );
      } finally {
        await probe.end();
      }
    }
    const live = await createEventStore(url, {
      postgres: {
        schema,
        poolSize: databasePoolSizes(this.config.DATABASE_POOL_SIZE, 'cli').eventStore,
        logReaderPoolSize: databasePoolSizes(this.config.DATABASE_POOL_SIZE, 'cli').logReader,
        migrate: false,
      },
    });
    // The archived history (mm archive) is read before the live log, transparently.
    const archived = (await readManifest(this.config.EVENT_ARCHIVE_DIR)).files.length > 0;
    this.eventStore = archived ? await withArchives(live, this.config.EVENT_ARCHIVE_DIR) : live;
    return this.eventStore;
  }

  /** A pool on the event store's PostgreSQL (for progress totals), when it is one. */
  eventStoreDb(): pg.Pool | undefined {
    const url = this.config.eventStoreUrl;
    if (!/^postgres(ql)?:\/\//i.test(url)) return undefined;
    if (url === this.config.DATABASE_URL) return this.db();
    return undefined;
  }

  /** The deployment's Redis: REDIS_URL, or the Redis Cluster of REDIS_CLUSTER_NODES. */
  redis(): RedisClient {
    if (!this.redisClient) {
      this.redisClient = createRedisClient(redisTarget(this.config), {
        maxRetriesPerRequest: 2,
        connectTimeout: 5000,
        lazyConnect: false,
        retryStrategy: (times) => (times > 3 ? null : 200),
      });
      this.redisClient.on('error', () => undefined); // surfaced by the failing command instead
    }
    return this.redisClient;
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.eventStore?.close(),
      this.pool?.end(),
      this.redisClient ? Promise.resolve(this.redisClient.disconnect()) : undefined,
    ]);
  }
}

export const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

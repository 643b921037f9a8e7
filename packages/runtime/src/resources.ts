import { Cluster, Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';

/** Longest pause between two reconnection attempts to Redis. */
export const RECONNECT_MAX_MS = 250;

/** A connection to Redis or a Redis Cluster (every caller of this package takes either). */
export type RedisClient = Redis | Cluster;

/**
 * Where a process's Redis is: `url` (REDIS_URL), or a Redis Cluster when `clusterNodes`
 * (REDIS_CLUSTER_NODES, `host:port`) is not empty — then the URL's user, password and TLS
 * (`rediss://`) apply to every node.
 */
export interface RedisTarget {
  url: string;
  clusterNodes?: readonly string[];
}

/** The {@link RedisTarget} of a process's settings. */
export const redisTarget = (config: { REDIS_URL: string; REDIS_CLUSTER_NODES?: readonly string[] }): RedisTarget => ({
  url: config.REDIS_URL,
  clusterNodes: config.REDIS_CLUSTER_NODES ?? [],
});

/**
 * A new client for `target` with `options` (for a cluster, the options of each node's
 * connection; keys are then routed to their slot's node, MOVED and ASK followed).
 */
export function createRedisClient(target: string | RedisTarget, options: RedisOptions): RedisClient {
  const { url, clusterNodes = [] } = typeof target === 'string' ? { url: target } : target;
  const retryStrategy = (times: number) => Math.min(50 * times, RECONNECT_MAX_MS);
  if (clusterNodes.length === 0) return new Redis(url, { retryStrategy, ...options });
  const parsed = new URL(url);
  const { maxRetriesPerRequest, enableOfflineQueue, ...nodeOptions } = options;
  return new Cluster(
    clusterNodes.map((node) => {
      const at = node.lastIndexOf(':');
      return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
    }),
    {
      // Reconnects to a cluster that went away as quickly as to one server.
      clusterRetryStrategy: retryStrategy,
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      redisOptions: {
        retryStrategy,
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
        ...(maxRetriesPerRequest === undefined ? {} : { maxRetriesPerRequest }),
        ...nodeOptions,
      },
    },
  );
}

export interface PostgresPoolOptions {
  connectionString: string;
  max: number;
  /** `application_name` of its connections (operators and fault tests find a process's connections by it). */
  applicationName: string;
  /** How long a query waits for a connection before it fails (then the caller answers 503). @defaultValue no limit */
  connectionTimeoutMillis?: number;
}

/**
 * What a process (or a component started in one) owns: PostgreSQL pools, Redis clients,
 * queues, timers — anything with a close. A resource handed in by the caller is used as it is
 * and left open; one made here gets what every process needs (an error listener, so a
 * connection lost while idle is logged instead of crashing the process; a name) and is closed
 * by {@link Resources.close}, last made first closed. The one composition helper of the API,
 * the projector and the workers.
 */
export class Resources {
  private readonly closers: { name: string; close: () => unknown }[] = [];

  constructor(private readonly logger: Pick<Logger, 'warn' | 'error'>) {}

  /** Closes `value` with the others; returns it. */
  own<T>(name: string, value: T, close: (value: T) => unknown): T {
    this.closers.push({ name, close: () => close(value) });
    return value;
  }

  /** Runs `fn` when closing (stop a timer, remove a listener), in the same reverse order. */
  onClose(name: string, fn: () => unknown): void {
    this.closers.push({ name, close: fn });
  }

  /** `given`, or a new pool closed with the rest. Either way an idle connection's death is logged, not thrown. */
  postgres(given: pg.Pool | undefined, options: PostgresPoolOptions): pg.Pool {
    const pool =
      given ??
      this.own(
        `postgres ${options.applicationName}`,
        new pg.Pool({
          connectionString: options.connectionString,
          max: options.max,
          application_name: options.applicationName,
          ...(options.connectionTimeoutMillis ? { connectionTimeoutMillis: options.connectionTimeoutMillis } : {}),
        }),
        (p) => p.end(),
      );
    // A pooled connection that dies while idle (PostgreSQL restarted, pg_terminate_backend) is
    // reported as the pool's 'error' event; without a listener it would crash the process. The
    // pool drops the connection and the next query opens a new one.
    const onError = (error: Error) =>
      this.logger.warn({ err: error }, 'idle PostgreSQL connection lost (reconnects on use)');
    pool.on('error', onError);
    // A pool made here keeps its listener for good: while it is being ended, PostgreSQL may still
    // terminate its idle connections (a blip is often why a component closes), and an 'error'
    // event with no listener would crash the process. A pool handed in gets it back without ours.
    if (given) this.onClose('postgres error listener', () => pool.off('error', onError));
    return pool;
  }

  /**
   * `given`, or a new client for `target` closed with the rest (its connection errors logged):
   * one server (a URL) or a Redis Cluster (`redisTarget(config)` with REDIS_CLUSTER_NODES set;
   * see {@link createRedisClient}). It reconnects every 50–250 ms while Redis is away (ioredis's
   * default backs off to 2 s, which after an outage left every process up to 2 s late to notice
   * Redis was back, and pairing with it); a connection attempt costs Redis next to nothing.
   */
  redis(given: RedisClient | undefined, target: string | RedisTarget, options: RedisOptions): RedisClient {
    if (given) return given;
    const redis = this.own('redis', createRedisClient(target, options), (r) => r.disconnect());
    redis.on('error', (error: Error) => this.logger.warn({ err: error }, 'Redis connection error (reconnecting)'));
    return redis;
  }

  /** Closes everything owned, last made first; a failing close is logged and the rest still close. */
  async close(): Promise<void> {
    while (this.closers.length > 0) {
      const { name, close } = this.closers.pop()!;
      try {
        await close();
      } catch (error) {
        this.logger.error({ err: error, resource: name }, 'could not close a resource');
      }
    }
  }
}

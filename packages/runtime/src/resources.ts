import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';

/** Longest pause between two reconnection attempts to Redis. */
export const RECONNECT_MAX_MS = 250;

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
   * `given`, or a new client on `url` closed with the rest (its connection errors logged). It
   * reconnects every 50–250 ms while Redis is away (ioredis's default backs off to 2 s, which
   * after an outage left every process up to 2 s late to notice Redis was back, and pairing with
   * it); a connection attempt costs Redis next to nothing.
   */
  redis(given: Redis | undefined, url: string, options: RedisOptions): Redis {
    if (given) return given;
    const redis = this.own(
      'redis',
      new Redis(url, { retryStrategy: (times) => Math.min(50 * times, RECONNECT_MAX_MS), ...options }),
      (r) => r.disconnect(),
    );
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

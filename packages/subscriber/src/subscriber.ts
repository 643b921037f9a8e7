import { EventContractError, type EventOf, type EventType, isEventType, parseEvent } from '@mm/contracts';
import type pg from 'pg';
import { type CheckpointStore, checkpointStore, type DeadLetter } from './checkpoint-store.js';
import { backoff, type CompetingSource, type Source, type SourceEvent, sleep } from './source.js';
import { FeedRefusedError } from './sources/http-feed-source.js';

/** An event as a handler gets it: contract-typed `data` (validated and upcast by `parseEvent`). */
export interface SubscribedEvent<T extends EventType = EventType> {
  type: T;
  data: EventOf<T>['data'];
  position: number;
  id: string;
  stream: string;
  tenantId: string;
  /** The schema version the event was written with (`data` is already at the current one). */
  schemaVersion: number;
  metadata: Record<string, unknown>;
  recordedAt: Date;
}

export interface HandlerContext {
  /**
   * The consumer database's client, inside the transaction that also moves the checkpoint:
   * write your effects with it and they commit exactly once with the checkpoint (or not at all).
   */
  client: pg.PoolClient;
  /** 1 for the first try of this event in this process, then 2, 3, … */
  attempt: number;
}

export type Handler<T extends EventType> = (event: SubscribedEvent<T>, context: HandlerContext) => Promise<void> | void;

/** One handler per event type you follow; other types are not even fetched. */
export type Handlers = { [T in EventType]?: Handler<T> };

export interface RetryOptions {
  /** Tries of one event before it is parked in the dead-letter table. @defaultValue 5 */
  attempts?: number;
  /** @defaultValue 100 */
  initialDelayMs?: number;
  /** @defaultValue 5000 */
  maxDelayMs?: number;
}

export interface SubscriberOptions {
  /** The subscriber's name: its checkpoint row and dead letters are kept under it. */
  name: string;
  /** A source in global order (checkpoint), or competing consumers (per-event dedup): README "Sources". */
  source: Source | CompetingSource;
  /** The consumer's own PostgreSQL. */
  db: pg.Pool;
  /** Schema of the kit's tables (created if missing). @defaultValue 'subscriber' */
  schema?: string;
  handlers: Handlers;
  retry?: RetryOptions;
  /**
   * Wait for each event's transaction to reach the WAL on disk. Off by default: a PostgreSQL
   * crash can then lose the last transactions, but only whole (effects and checkpoint
   * together), and the source delivers those events again — exactly once still holds, and a
   * commit no longer costs a disk flush (≈ 10× the events/s on a plain disk).
   * @defaultValue false
   */
  synchronousCommit?: boolean;
  /** Most events applied in one transaction (while catching up; live events go one by one). @defaultValue 100 */
  maxBatch?: number;
  /** A handler failure (it will be retried or parked), a lost database, a dropped source. */
  onError?: (error: unknown, context: { event?: SourceEvent; attempt?: number }) => void;
  onDeadLetter?: (event: SourceEvent, error: unknown, attempts: number) => void;
}

export interface SubscriberStats {
  running: boolean;
  /** Position of the last event whose effects are committed (or that was skipped), -1 before any. */
  position: number;
  /** When that event was recorded in the matchmaking log. */
  lastRecordedAt: Date | null;
  handled: number;
  /** Deliveries of an event already applied (at-least-once sources redeliver after a reconnect or a restart). */
  duplicates: number;
  retries: number;
  deadLettered: number;
  /** The error that stopped the subscriber, if one did (a refused token, …). */
  failure: unknown;
}

export interface Lag {
  /** Events after the checkpoint (counted up to 1000; `capped` = at least that many). */
  events: number;
  capped: boolean;
  /** Age of the oldest event not handled yet; 0 when caught up. */
  seconds: number;
}

export interface Subscriber {
  /** Creates the tables if needed, reads the checkpoint and starts following. */
  start(): Promise<void>;
  /** Stops after the in-flight event's transaction has finished; nothing is left half-applied. */
  stop(): Promise<void>;
  /** Resolves when the subscriber has stopped (by stop(), or by an error retrying cannot fix). */
  readonly done: Promise<void>;
  stats(): SubscriberStats;
  lag(): Promise<Lag>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Resolves once the checkpoint is at or past `position`. */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
}

/** Thrown into a source when the subscriber stops, so nothing more is delivered. */
class StoppedError extends Error {
  constructor() {
    super('subscriber stopped');
    this.name = 'StoppedError';
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03']);
/** A lost or refused database connection: retried without counting against the event. */
export const isConnectionError = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  const message = (error as { message?: unknown })?.message;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
  );
};

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Follows matchmaking events with exactly-once effects in the consumer's database: each event
 * is applied in one transaction that runs the handler (with the transaction's client) and moves
 * the checkpoint, after locking the checkpoint row and skipping an event it already covers.
 * A crash anywhere leaves either both the effects and the checkpoint or neither; the source
 * delivers at least once from the checkpoint, and what was already applied is skipped.
 */
export function createSubscriber(options: SubscriberOptions): Subscriber {
  const schema = options.schema ?? 'subscriber';
  const attempts = options.retry?.attempts ?? 5;
  const maxBatch = options.maxBatch ?? 100;
  const initialDelay = options.retry?.initialDelayMs ?? 100;
  const maxDelay = options.retry?.maxDelayMs ?? 5000;
  const handlers = options.handlers as Record<string, Handler<EventType> | undefined>;
  const types = Object.keys(handlers).filter((type) => handlers[type] !== undefined);
  for (const type of types)
    if (!isEventType(type)) throw new TypeError(`createSubscriber: "${type}" is not an event type of @mm/contracts`);
  const filter = { types };
  const checkpoints: CheckpointStore = checkpointStore(options.db, schema, options.name, {
    synchronousCommit: options.synchronousCommit ?? false,
  });
  const abort = new AbortController();
  const stats: SubscriberStats = {
    running: false,
    position: -1,
    lastRecordedAt: null,
    handled: 0,
    duplicates: 0,
    retries: 0,
    deadLettered: 0,
    failure: undefined,
  };
  let done: Promise<void> = Promise.resolve();
  let started = false;

  const toSubscribed = (event: SourceEvent): SubscribedEvent => {
    const { type, data } = parseEvent(event.type, event.schemaVersion, event.data);
    return {
      type,
      data,
      position: event.position,
      id: event.id,
      stream: event.stream,
      tenantId: String(event.metadata.tenantId ?? ''),
      schemaVersion: event.schemaVersion,
      metadata: event.metadata,
      recordedAt: event.recordedAt,
    } as SubscribedEvent;
  };

  /** A handler's failure inside a batch, with the event it failed on. */
  class HandlerFailure extends Error {
    constructor(
      readonly event: SourceEvent,
      readonly error: unknown,
    ) {
      super(describe(error));
    }
  }

  /**
   * One transaction over `events` (in order): lock the checkpoint, skip what it already covers,
   * run the handlers (or park the single event with `parkWith`), move the checkpoint to the
   * last event, commit. Returns how many were applied; throws a HandlerFailure or a database error.
   */
  const applyTx = async (events: SourceEvent[], attempt: number, parkWith?: string): Promise<number> => {
    const client = await options.db.connect();
    let broken = false;
    // A connection that dies while checked out emits 'error' on the client (not the pool);
    // without a listener it would crash the process. The query in flight fails too, and is retried.
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      const committed = await checkpoints.begin(client);
      const fresh = events.filter((event) => event.position > committed);
      if (fresh.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      if (parkWith !== undefined) await checkpoints.park(client, fresh[0]!, parkWith, attempt);
      else
        for (const event of fresh) {
          const handler = handlers[event.type];
          if (!handler) continue;
          try {
            await handler(toSubscribed(event), { client, attempt });
          } catch (error) {
            throw new HandlerFailure(event, error);
          }
        }
      await checkpoints.commit(client, events[events.length - 1]!.position);
      return fresh.length;
    } catch (error) {
      broken ||= isConnectionError(error instanceof HandlerFailure ? error.error : error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  };

  const committed = (events: SourceEvent[], applied: number) => {
    stats.duplicates += events.length - applied;
    const last = events[events.length - 1]!;
    stats.position = last.position;
    stats.lastRecordedAt = last.recordedAt;
  };

  /** Waits out a lost database (not the events' fault: no attempt is counted), or stops. */
  const databaseAway = async (error: unknown, failures: number, event?: SourceEvent) => {
    options.onError?.(error, event ? { event } : {});
    await sleep(backoff(failures, initialDelay, maxDelay), abort.signal);
    if (abort.signal.aborted) throw new StoppedError();
  };

  /**
   * One event on its own, with retries and backoff; parked after `attempts` failures (at once
   * for data that does not match the contract, which never will). `failedOnce` = its first
   * try already failed (in a batch).
   */
  const applyOne = async (event: SourceEvent, failedOnce?: unknown): Promise<void> => {
    let attempt = 0;
    let lostFor = 0;
    let parkWith: string | undefined;
    const failed = async (error: unknown) => {
      options.onError?.(error, { event, attempt });
      if (error instanceof EventContractError || attempt >= attempts) {
        parkWith = describe(error);
        return;
      }
      stats.retries++;
      await sleep(backoff(attempt, initialDelay, maxDelay), abort.signal);
    };
    if (failedOnce !== undefined) {
      attempt = 1;
      await failed(failedOnce);
    }
    for (;;) {
      if (abort.signal.aborted) throw new StoppedError();
      const parking = parkWith !== undefined;
      if (!parking) attempt++; // parking is not another try of the handler
      try {
        const applied = await applyTx([event], attempt, parkWith);
        committed([event], applied);
        if (parking && applied > 0) {
          stats.deadLettered++;
          options.onDeadLetter?.(event, parkWith, attempt);
        } else stats.handled += applied;
        return;
      } catch (error) {
        const cause = error instanceof HandlerFailure ? error.error : error;
        if (isConnectionError(cause)) {
          if (!parking) attempt--;
          await databaseAway(cause, ++lostFor, event);
        } else await failed(cause);
      }
    }
  };

  /** A batch in one transaction; on a handler failure, its events one by one (so only the poison one waits). */
  const applyBatch = async (batch: SourceEvent[]): Promise<void> => {
    for (let lostFor = 1; ; lostFor++) {
      if (abort.signal.aborted) throw new StoppedError();
      try {
        const applied = await applyTx(batch, 1);
        committed(batch, applied);
        stats.handled += applied;
        return;
      } catch (error) {
        const cause = error instanceof HandlerFailure ? error.error : error;
        if (isConnectionError(cause)) {
          await databaseAway(cause, lostFor);
          continue;
        }
        const culprit = error instanceof HandlerFailure ? error.event : undefined;
        for (const event of batch) await applyOne(event, event === culprit ? cause : undefined);
        return;
      }
    }
  };

  // Events handed over by the source wait here and are applied in batches: whatever arrived
  // while the previous transaction ran goes into the next one (one event when live, up to
  // `maxBatch` when catching up), so there is no added delay and one commit covers many events.
  const buffer: SourceEvent[] = [];
  let queuedUpTo = -1;
  let worker: Promise<void> | undefined;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const work = async () => {
    try {
      while (buffer.length > 0 && !abort.signal.aborted) {
        const batch = buffer.splice(0, maxBatch);
        wake();
        await applyBatch(batch);
      }
    } catch (error) {
      if (!(error instanceof StoppedError)) {
        stats.failure = error;
        options.onError?.(error, {});
        abort.abort();
      }
    } finally {
      buffer.length = 0;
      worker = undefined;
      wake();
    }
  };
  abort.signal.addEventListener('abort', wake, { once: true });

  const deliver = async (event: SourceEvent): Promise<void> => {
    if (abort.signal.aborted) throw new StoppedError();
    if (event.position <= queuedUpTo) {
      stats.duplicates++;
      return;
    }
    buffer.push(event);
    queuedUpTo = event.position;
    worker ??= work();
    // Backpressure: the source waits while a full batch is queued.
    while (buffer.length >= maxBatch && !abort.signal.aborted)
      await new Promise<void>((resolve) => waiters.push(resolve));
    if (abort.signal.aborted) throw new StoppedError();
  };

  /**
   * One transaction for one event of a competing source: claim it in the processed table
   * (skip it if already claimed), run `body` with the client, commit. Returns whether it ran.
   */
  const claimTx = async (event: SourceEvent, body: (client: pg.PoolClient) => Promise<void>): Promise<boolean> => {
    const client = await options.db.connect();
    let broken = false;
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      if (!(await checkpoints.claim(client, event))) {
        await client.query('COMMIT');
        return false;
      }
      await body(client);
      await client.query('COMMIT');
      return true;
    } catch (error) {
      broken ||= isConnectionError(error instanceof HandlerFailure ? error.error : error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  };

  /** A claim transaction, waiting out a lost database. */
  const claimPatiently = async (event: SourceEvent, body: (client: pg.PoolClient) => Promise<void>) => {
    for (let lostFor = 1; ; lostFor++) {
      if (abort.signal.aborted) throw new StoppedError();
      try {
        return await claimTx(event, body);
      } catch (error) {
        const cause = error instanceof HandlerFailure ? error.error : error;
        if (!isConnectionError(cause)) throw error;
        await databaseAway(cause, lostFor, event);
      }
    }
  };

  /**
   * A competing source's event: resolves (the source acks) once its effects and its claim are
   * committed, or it was already claimed, or it is parked; throws (the source nacks for a retry)
   * after a handler failure with tries left. The try count is the server's retry count + 1.
   */
  const deliverCompeting = async (event: SourceEvent, { retryCount }: { retryCount: number }): Promise<void> => {
    if (abort.signal.aborted) throw new StoppedError();
    const attempt = retryCount + 1;
    const settled = (applied: boolean) => {
      if (!applied) stats.duplicates++;
      if (event.position > stats.position) {
        stats.position = event.position;
        stats.lastRecordedAt = event.recordedAt;
      }
    };
    try {
      const applied = await claimPatiently(event, async (client) => {
        const handler = handlers[event.type];
        if (!handler) return;
        try {
          await handler(toSubscribed(event), { client, attempt });
        } catch (error) {
          throw new HandlerFailure(event, error);
        }
      });
      if (applied) stats.handled++;
      settled(applied);
    } catch (error) {
      if (!(error instanceof HandlerFailure)) throw error;
      options.onError?.(error.error, { event, attempt });
      if (!(error.error instanceof EventContractError) && attempt < attempts) {
        stats.retries++;
        await sleep(backoff(attempt, initialDelay, maxDelay), abort.signal);
        throw error.error;
      }
      const reason = describe(error.error);
      const parked = await claimPatiently(event, (client) => checkpoints.park(client, event, reason, attempt));
      if (parked) {
        stats.deadLettered++;
        options.onDeadLetter?.(event, error.error, attempt);
      }
      settled(parked);
    }
  };

  const runCompeting = async (source: CompetingSource) => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        await source.consume(filter, deliverCompeting, abort.signal, (error) => {
          if (!(error instanceof StoppedError)) options.onError?.(error, {});
        });
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted) return;
        options.onError?.(error, {});
      }
      if (abort.signal.aborted) return;
      await sleep(backoff(++failures, initialDelay, maxDelay), abort.signal);
    }
  };

  const run = async () => {
    if ('competing' in options.source) return runCompeting(options.source);
    const source = options.source;
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        await source.run(queuedUpTo, filter, deliver, abort.signal);
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted || error instanceof StoppedError) return;
        if (error instanceof FeedRefusedError) throw error;
        options.onError?.(error, {});
        await sleep(backoff(++failures, initialDelay, maxDelay), abort.signal);
      }
    }
  };

  const subscriber: Subscriber = {
    async start() {
      if (started) throw new Error('subscriber already started');
      started = true;
      await checkpoints.migrate();
      stats.position = await checkpoints.position();
      queuedUpTo = stats.position;
      stats.running = true;
      done = run()
        .catch((error: unknown) => {
          stats.failure = error;
          options.onError?.(error, {});
        })
        .finally(() => {
          stats.running = false;
        });
    },
    async stop() {
      abort.abort();
      await done;
      await worker;
    },
    get done() {
      return done;
    },
    stats: () => ({ ...stats }),
    async lag() {
      if ('competing' in options.source)
        throw new Error(
          `subscriber "${options.name}": lag() is not available for a competing source (${options.source.kind}); the server's group statistics have it`,
        );
      const max = 1000;
      const pending = await options.source.peek(stats.position, filter, max);
      const oldest = pending[0];
      return {
        events: pending.length,
        capped: pending.length >= max,
        seconds: oldest ? Math.max(0, (Date.now() - oldest.recordedAt.getTime()) / 1000) : 0,
      };
    },
    deadLetters: () => checkpoints.deadLetters(),
    async waitFor(position, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (stats.position < position) {
        if (!stats.running && started) throw new Error(`subscriber stopped at ${stats.position} before ${position}`);
        if (Date.now() > deadline)
          throw new Error(`subscriber at ${stats.position}, not ${position}, after ${timeoutMs} ms`);
        await sleep(5);
      }
    },
  };
  return subscriber;
}

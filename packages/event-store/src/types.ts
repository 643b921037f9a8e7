/**
 * The event store port. Every adapter (memory, postgres, esdb) implements
 * {@link EventStore} with the same semantics; `src/testing/contract.ts` is the
 * executable definition of those semantics.
 */

/** JSON-serialisable value, as stored in an event's data. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Who caused an event. */
export interface Actor {
  /** `user` = a player through the API; `service` = one of our workers; `system` = scheduled/automatic. */
  type: 'user' | 'service' | 'system';
  id: string;
}

/** Metadata every event carries (docs/architecture.md, "Streams and events"). */
export interface EventMetadata {
  tenantId: string;
  /** Id of the request/flow this event belongs to (propagated end to end). */
  correlationId: string;
  /** Id of the message (command id or event id) that directly caused this event; null for a root cause. */
  causationId: string | null;
  actor: Actor;
  /** Adapters store and return any extra keys untouched. */
  [key: string]: Json | Actor | undefined;
}

/** An event to append. */
export interface EventData<Type extends string = string, Data = Json> {
  /** UUID. Appends are idempotent by this id. */
  id: string;
  type: Type;
  /** Schema version of `data`; defaults to 1. */
  schemaVersion?: number;
  data: Data;
  metadata: EventMetadata;
}

/** An event as read back from the store. */
export interface RecordedEvent<Type extends string = string, Data = Json> {
  id: string;
  streamName: string;
  /** 0-based revision of the event inside its stream. */
  revision: number;
  /**
   * Global position: unique, and strictly increasing in the order `readAll` and
   * subscriptions deliver events. Not dense (gaps are normal). Safe as a JS number.
   */
  position: number;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata;
  recordedAt: Date;
}

/**
 * Expected state of the stream for an append.
 * - `any`: no check;
 * - `no_stream`: the stream must not exist;
 * - `stream_exists`: the stream must have at least one event;
 * - a number: the revision of the stream's last event must equal it.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/** Revision of a stream's last event, or `no_stream`. */
export type CurrentRevision = number | 'no_stream';

export interface AppendOptions {
  /** @defaultValue 'any' */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event appended (use it as the next expected revision). */
  nextExpectedRevision: number;
  /** Global position of the last event appended. */
  position: number;
}

/** One stream's part of {@link EventStore.appendToStreams}. */
export interface StreamAppend {
  streamName: string;
  events: EventData[];
  /** @defaultValue 'any' */
  expectedRevision?: ExpectedRevision;
}

export interface ReadStreamOptions {
  /** @defaultValue 'forwards' */
  direction?: 'forwards' | 'backwards';
  /** Inclusive starting revision; default: start (forwards) or end (backwards). */
  fromRevision?: number;
  /** @defaultValue unlimited */
  maxCount?: number;
}

/** Filter for `$all` reads and subscriptions. Both given = both must match. */
export interface AllFilter {
  /** Stream categories: the part of the stream name before the first `-`. */
  categories?: string[];
  eventTypes?: string[];
  /**
   * Only events whose `metadata.tenantId` equals this (optional; with the other filters, all
   * must match). PostgreSQL reads it through an index on (tenant, position); the other
   * adapters filter as they read.
   */
  tenantId?: string;
}

export interface ReadAllOptions {
  /** Exclusive: only events with `position > after` are returned. @defaultValue -1 (from the start) */
  after?: number;
  /** @defaultValue 1000 */
  maxCount?: number;
  filter?: AllFilter;
}

/**
 * One event of the global log as a replay of it reads it ({@link EventStore.readLog}): what a
 * projection applies — no id, stream name, revision or metadata other than the tenant.
 */
export interface LogEvent<Type extends string = string, Data = Json> {
  position: number;
  type: Type;
  schemaVersion: number;
  /** `metadata.tenantId` */
  tenantId: string;
  data: Data;
  /** Only when read with `recordedAt: true`. */
  recordedAt?: Date;
}

export interface ReadLogOptions extends ReadAllOptions {
  /** Read each event's `recordedAt` too. @defaultValue false */
  recordedAt?: boolean;
}

export interface StreamLogOptions extends ReadLogOptions {
  /** Pages read ahead of the one the caller handles. @defaultValue 3 */
  ahead?: number;
}

export interface SubscribeOptions {
  /** The consumer's checkpoint: delivery starts strictly after it. Omit to start from the beginning. */
  after?: number;
  filter?: AllFilter;
  /**
   * Called for each event, in position order, one at a time (the next call waits for
   * the returned promise). Delivery is at least once: after a restart from an older
   * checkpoint events are delivered again, so dedupe by `event.position`.
   */
  handler: (event: RecordedEvent) => Promise<void> | void;
  /** Called when the subscription stops because of an error (including a handler error). */
  onError?: (error: unknown) => void;
  /**
   * Called when a read failed for a reason expected to pass (connection terminated, server
   * restarting); the subscription reads again from its position after `retryInMs` and does
   * not stop. Adapters that reconnect by themselves (PostgreSQL, EventStoreDB) may call it.
   */
  onTransientError?: (error: unknown, retryInMs: number) => void;
  /** Events fetched per read while catching up. @defaultValue 500 */
  batchSize?: number;
}

export interface Subscription {
  /** Resolves once every event that existed when the subscription started has been handled. */
  readonly caughtUp: Promise<void>;
  /** Position of the last event handled, or `after` if none yet. */
  readonly lastPosition: number;
  /** Resolves when the subscription has stopped (after close(), or on error). */
  readonly done: Promise<void>;
  /** Stops delivery; resolves after the in-flight handler call (if any) finished. */
  close(): Promise<void>;
}

export interface EventStore {
  /** Appends events atomically. Throws {@link WrongExpectedRevisionError} on a revision mismatch. */
  appendToStream(streamName: string, events: EventData[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Optional capability: appends to several distinct streams in one transaction, all or
   * nothing. Each part has exactly the semantics of {@link appendToStream} (its own expected
   * revision; a replay of events already stored there returns the original result). If any
   * part fails, nothing is written and that part's error is thrown
   * ({@link WrongExpectedRevisionError} names its stream). Results are in the order given.
   *
   * Adapters whose store has no multi-stream transactions (EventStoreDB) leave it undefined;
   * callers then append stream by stream and keep their invariants by other means (claims and
   * compensation, docs/architecture.md).
   */
  appendToStreams?(appends: StreamAppend[]): Promise<AppendResult[]>;
  /** Reads a stream; a stream that does not exist reads as `[]`. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Revision of the stream's last event, or `no_stream`. */
  streamRevision(streamName: string): Promise<CurrentRevision>;
  /** Reads the global log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Optional capability: the pages `readAll` returns for the same options (same events, order,
   * filter and wait for older transactions), each event as a {@link LogEvent} only — a cheaper
   * read for replays of the whole log (PostgreSQL reads and decodes only those columns). Callers
   * fall back to `readAll` where it is undefined.
   */
  readLog?(options?: ReadLogOptions): Promise<LogEvent[]>;
  /**
   * Optional capability: `readLog`'s pages from `after` on, one after the other, up to the end
   * of the log as it is while read (the first empty page), with the next pages read and decoded
   * ahead while the caller handles one (PostgreSQL: in a worker thread with its own connection).
   * Leaving the loop early stops the reading. Callers fall back to `readLog` pages.
   */
  streamLog?(options?: StreamLogOptions): AsyncGenerator<LogEvent[]>;
  /** Catch-up subscription to the global log: history, then live events. */
  subscribeToAll(options: SubscribeOptions): Subscription;
  /** Cheap liveness check for /ready. */
  ping(): Promise<void>;
  /** Releases connections; subscriptions are closed first. */
  close(): Promise<void>;
}

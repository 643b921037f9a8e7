/** One event as a source hands it to the kit (the feed's fields, as the HTTP feed publishes them). */
export interface SourceEvent {
  /** Global position: unique and increasing in delivery order, not dense. The checkpoint. */
  position: number;
  id: string;
  type: string;
  schemaVersion: number;
  stream: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: Date;
}

/** What the kit asks a source for: which events (the kit derives `types` from its handlers). */
export interface SourceFilter {
  types?: readonly string[];
}

/**
 * Where events come from: the HTTP feed ({@link httpFeedSource}) or an event store
 * ({@link eventStoreSource}). `run` delivers every event after `after`, in order, at least
 * once, calling `deliver` one event at a time and awaiting it before the next one (so a slow
 * handler slows the source down, never fills memory). It resolves when `signal` aborts (after
 * the in-flight `deliver`), and rejects only for errors that retrying cannot fix (a refused
 * token, a bad request).
 */
export interface Source {
  readonly kind: string;
  run(
    after: number,
    filter: SourceFilter,
    deliver: (event: SourceEvent) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /** Up to `max` events after `after` (for lag figures), without delivering them. */
  peek(after: number, filter: SourceFilter, max: number): Promise<SourceEvent[]>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Exponential backoff: `initial`, doubling, at most `max`. */
export const backoff = (failures: number, initial: number, max: number): number =>
  Math.min(max, initial * 2 ** Math.max(0, failures - 1));

/**
 * A source of competing consumers (an EventStoreDB persistent subscription group,
 * {@link persistentGroupSource}): the server decides which events this instance gets, in no
 * global order, and redelivers what is not acknowledged. `deliver` resolving acks the event;
 * `deliver` throwing asks for it again (nack `retry`). `consume` resolves when `signal` aborts.
 */
export interface CompetingSource {
  readonly kind: string;
  readonly competing: true;
  consume(
    filter: SourceFilter,
    deliver: (event: SourceEvent, delivery: { retryCount: number }) => Promise<void>,
    signal: AbortSignal,
    onError?: (error: unknown) => void,
  ): Promise<void>;
}

import type { AllFilter, EventStore, RecordedEvent, Subscription } from '@mm/event-store';

/** A read model fed from the log in batches. */
export interface BatchProjection {
  readonly name: string;
  /** Position of the last event the read model contains; undefined = empty. */
  loadCheckpoint(): Promise<number | undefined>;
  /**
   * Applies events (in log order) and records the last one's position as the checkpoint:
   * atomically (Postgres: same transaction) or idempotently (Redis: per-key positions).
   */
  applyBatch(events: readonly RecordedEvent[]): Promise<void>;
}

export interface RunProjectionOptions {
  /** @defaultValue our categories: player, match, challenge */
  filter?: AllFilter;
  /** Largest batch applied at once. @defaultValue 500 */
  batchSize?: number;
  /** Called when the projection stops on an error (the process should restart it). */
  onError?: (error: unknown) => void;
}

export interface RunningProjection {
  /** Resolves once every event that existed at start is applied. */
  readonly caughtUp: Promise<void>;
  /** Position of the last applied event. */
  position(): number;
  /** Resolves once the event at `position` (or a later one) is applied. */
  waitFor(position: number): Promise<void>;
  /** Resolves when it stopped (closed, or failed). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export const matchmakingCategories: AllFilter = { categories: ['player', 'match', 'challenge'] };

/**
 * Feeds a projection from a catch-up subscription starting at its checkpoint. Events are
 * buffered and applied in batches: during catch-up a batch is one transaction for many
 * events; live, a batch closes as soon as the subscription has nothing more to hand over
 * (next macrotask), so latency stays at one round trip.
 */
export async function runProjection(
  store: EventStore,
  projection: BatchProjection,
  options: RunProjectionOptions = {},
): Promise<RunningProjection> {
  const batchSize = options.batchSize ?? 500;
  const start = (await projection.loadCheckpoint()) ?? -1;
  let applied = start;
  let buffer: RecordedEvent[] = [];
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;
  let failed: unknown;
  const waiters = new Set<{ position: number; resolve: () => void; reject: (e: unknown) => void }>();

  const flush = (): Promise<void> => {
    scheduled = false;
    if (buffer.length === 0) return chain;
    const batch = buffer;
    buffer = [];
    chain = chain.then(async () => {
      if (failed) return;
      try {
        await projection.applyBatch(batch);
        applied = batch[batch.length - 1]!.position;
        for (const waiter of waiters) {
          if (applied >= waiter.position) {
            waiters.delete(waiter);
            waiter.resolve();
          }
        }
      } catch (error) {
        fail(error);
      }
    });
    return chain;
  };

  let subscription: Subscription | undefined;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = error;
    for (const waiter of waiters) waiter.reject(error);
    waiters.clear();
    options.onError?.(error);
    void subscription?.close();
  };

  subscription = store.subscribeToAll({
    after: start,
    filter: options.filter ?? matchmakingCategories,
    batchSize,
    onError: fail,
    handler: async (event) => {
      if (failed) throw failed;
      buffer.push(event);
      if (buffer.length >= batchSize) {
        await flush();
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    },
  });
  const sub = subscription;

  return {
    caughtUp: sub.caughtUp
      .then(() => flush())
      .then(() => {
        if (failed) throw failed;
      }),
    position: () => applied,
    waitFor(position) {
      if (failed) return Promise.reject(failed);
      if (applied >= position) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.add({ position, resolve, reject }));
    },
    done: sub.done.then(() => chain),
    async close() {
      await sub.close();
      await flush();
    },
  };
}

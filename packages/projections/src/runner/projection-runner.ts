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
export function runProjection(
  store: EventStore,
  projection: BatchProjection,
  options: RunProjectionOptions = {},
): Promise<RunningProjection> {
  return runProjections(store, [projection], options);
}

/**
 * Feeds several projections from one subscription (one read and one parse of every event,
 * not one per projection), starting at the lowest of their checkpoints; each projection skips
 * what it already has. Every batch goes to each projection's own chain, so a fast projection
 * (the Redis views) does not wait for a slow one (the Postgres read models) — except that the
 * subscription waits for all of them when a full batch is buffered (back-pressure while
 * catching up). The first failure of any projection stops the run (restart it: each projection
 * resumes from its own checkpoint). `position()` is the lowest applied position.
 */
export async function runProjections(
  store: EventStore,
  projections: readonly BatchProjection[],
  options: RunProjectionOptions = {},
): Promise<RunningProjection> {
  if (projections.length === 0) throw new Error('runProjections: no projection');
  const batchSize = options.batchSize ?? 500;
  const applied = (await Promise.all(projections.map((p) => p.loadCheckpoint()))).map((c) => c ?? -1);
  const start = Math.min(...applied);
  let buffer: RecordedEvent[] = [];
  const chains: Promise<void>[] = projections.map(() => Promise.resolve());
  let scheduled = false;
  let failed: unknown;
  const waiters = new Set<{ position: number; resolve: () => void; reject: (e: unknown) => void }>();
  const lowest = () => Math.min(...applied);

  const settleWaiters = () => {
    const position = lowest();
    for (const waiter of waiters) {
      if (position >= waiter.position) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const all = () => Promise.all(chains).then(() => undefined);

  const flush = (): Promise<void> => {
    scheduled = false;
    if (buffer.length === 0) return all();
    const batch = buffer;
    buffer = [];
    projections.forEach((projection, i) => {
      chains[i] = chains[i]!.then(async () => {
        if (failed) return;
        const from = applied[i]!;
        const events = batch[0]!.position > from ? batch : batch.filter((e) => e.position > from);
        if (events.length === 0) return;
        try {
          await projection.applyBatch(events);
          applied[i] = events[events.length - 1]!.position;
          settleWaiters();
        } catch (error) {
          fail(error);
        }
      });
    });
    return all();
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
    position: lowest,
    waitFor(position) {
      if (failed) return Promise.reject(failed);
      if (lowest() >= position) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.add({ position, resolve, reject }));
    },
    done: sub.done.then(() => all()),
    async close() {
      await sub.close();
      await flush();
    },
  };
}

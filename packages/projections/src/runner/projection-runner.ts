import type { AllFilter, EventStore, RecordedEvent, Subscription } from '@mm/event-store';
import { isProjectionReset, ProjectionReset } from './projection-reset.js';

/** How a batch reaches a projection. */
export interface ApplyContext {
  /**
   * The runner is replaying the log into the projection after a reset, up to where the run
   * had got (not live events): side effects meant for live changes can wait for `afterRebuild`.
   */
  rebuilding: boolean;
}

/** The log as a projection's {@link BatchProjection.rebuildFromLog} reads it. */
export interface LogSource {
  /** Rebuild up to this position (the one the run had got to), inclusive. */
  readonly target: number;
  /** Up to `maxCount` events after `after`, with the run's filter. */
  read(after: number, maxCount: number): Promise<readonly RecordedEvent[]>;
  /** The run is closing or failed: stop early (write nothing). */
  stopped(): boolean;
}

/** A read model fed from the log in batches. */
export interface BatchProjection {
  readonly name: string;
  /**
   * Position of the last event the read model contains; undefined = empty. Called at start
   * and again after the projection threw {@link ProjectionReset} or asked for a reset: it
   * may then empty the read model and return undefined (rebuild from the start).
   */
  loadCheckpoint(): Promise<number | undefined>;
  /**
   * Applies events (in log order) and records the last one's position as the checkpoint:
   * atomically (Postgres: same transaction) or idempotently (Redis: per-key positions).
   * Throws {@link ProjectionReset} when its store lost what the checkpoint says it holds.
   */
  applyBatch(events: readonly RecordedEvent[], context?: ApplyContext): Promise<void>;
  /**
   * A faster way to rebuild from empty than replaying the log batch by batch through
   * `applyBatch` (e.g. folding it in memory and writing the result at once). Called after a
   * reset when `loadCheckpoint` returned undefined; must leave the same state `applyBatch` would
   * and record the checkpoint. Returns the position it got to (-1: the log had nothing up to the
   * target) and the events it read, or undefined to replay batch by batch instead. The runner
   * then replays whatever is left up to the target (normally nothing) and calls `afterRebuild`.
   */
  rebuildFromLog?(source: LogSource): Promise<{ position: number; events: number } | undefined>;
  /** Called once a rebuild has caught up with the run (the replayed batches had `rebuilding: true`). */
  afterRebuild?(): Promise<void>;
  /**
   * Lets the projection ask for a reset between batches (e.g. its Redis reconnected and came
   * back empty while no event arrives). Returns a function that stops listening.
   */
  onResetNeeded?(listener: (reason: string) => void): () => void;
}

/** A projection recovering on its own chain (the other projections go on). */
export interface RecoveryEvent {
  projection: string;
  /** `reset`: its store lost state, rebuilt from its reloaded checkpoint; `transient`: a failure expected to pass (connection lost), retried from its checkpoint. */
  kind: 'reset' | 'transient';
  error: unknown;
  /** Backoff before the attempt. */
  retryInMs: number;
}

/** A recovery that reached the position the run had got to. */
export interface RebuiltEvent {
  projection: string;
  kind: 'reset' | 'transient';
  /** The reloaded checkpoint (-1 = from the start of the log). */
  from: number;
  to: number;
  events: number;
  ms: number;
}

export interface RunProjectionOptions {
  /** @defaultValue our categories: player, match, challenge */
  filter?: AllFilter;
  /** Largest batch applied at once. @defaultValue 500 */
  batchSize?: number;
  /** Called when the projection stops on an error (the process should restart it). */
  onError?: (error: unknown) => void;
  /**
   * Errors a batch may fail with that are expected to pass (a lost database connection):
   * that projection's chain reloads its checkpoint and replays from it after a backoff
   * (100 ms, doubling, at most 5 s) instead of stopping the run. @defaultValue none
   */
  isTransient?: (error: unknown) => boolean;
  /** Called when a projection starts recovering (before each attempt). */
  onRecover?: (event: RecoveryEvent) => void;
  /** Called when a recovery has caught up. */
  onRecovered?: (event: RebuiltEvent) => void;
  /** Called after each batch a projection applied (live, catching up or replaying), with its duration. */
  onBatch?: (event: AppliedBatch) => void;
}

/** A batch a projection applied. */
export interface AppliedBatch {
  projection: string;
  events: number;
  seconds: number;
}

export interface RunningProjection {
  /** Resolves once every event that existed at start is applied. */
  readonly caughtUp: Promise<void>;
  /** Position of the last applied event. */
  position(): number;
  /** Position of the last event each projection applied, by name (-1: none). */
  positions(): Record<string, number>;
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
 * catching up), but not for one that is recovering (up to a bounded backlog). A projection
 * that throws {@link ProjectionReset} (or asks for a reset), or fails with an error
 * `isTransient` accepts, recovers on its own chain: checkpoint reloaded, the log replayed from
 * it up to where the run had got, while the others go on. Any other failure stops
 * the run (restart it: each projection resumes from its own checkpoint). `position()` is the
 * lowest applied position (it goes down while a projection rebuilds from the start).
 */
export async function runProjections(
  store: EventStore,
  projections: readonly BatchProjection[],
  options: RunProjectionOptions = {},
): Promise<RunningProjection> {
  if (projections.length === 0) throw new Error('runProjections: no projection');
  const batchSize = options.batchSize ?? 500;
  const filter = options.filter ?? matchmakingCategories;
  const applied = (await Promise.all(projections.map((p) => p.loadCheckpoint()))).map((c) => c ?? -1);
  const start = Math.min(...applied);
  let buffer: RecordedEvent[] = [];
  const chains: Promise<void>[] = projections.map(() => Promise.resolve());
  let scheduled = false;
  let failed: unknown;
  let closing = false;
  /** Position of the last event the subscription handed over (buffered or applied). */
  let lastSeen = start;
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
  const applyMeasured = async (i: number, events: readonly RecordedEvent[], context?: ApplyContext) => {
    const started = performance.now();
    await projections[i]!.applyBatch(events, context);
    options.onBatch?.({
      projection: projections[i]!.name,
      events: events.length,
      seconds: (performance.now() - started) / 1000,
    });
  };
  const stopped = () => failed !== undefined || closing;

  /** Events handed to each chain and not taken up by it yet. */
  const backlog = projections.map(() => 0);
  /** Chains recovering now: their queue does not hold the subscription back, up to `maxBacklog` events. */
  const recovering = projections.map(() => false);
  const maxBacklog = 100 * batchSize;
  const recoveryStarted: Set<() => void>[] = projections.map(() => new Set());
  const exempt = (i: number) => recovering[i]! && backlog[i]! <= maxBacklog;
  /**
   * Back-pressure for the subscription: resolves when every chain has taken up what it was
   * given — except a chain that is recovering (rebuilding a lost Redis, waiting out a database
   * blip), whose batches queue behind its recovery while the others go on, as long as its
   * backlog stays bounded.
   */
  const drained = (): Promise<void> =>
    Promise.all(
      chains.map((chain, i) =>
        exempt(i)
          ? undefined
          : new Promise<void>((resolve) => {
              const onRecovery = () => {
                if (!exempt(i)) return;
                recoveryStarted[i]!.delete(onRecovery);
                resolve();
              };
              recoveryStarted[i]!.add(onRecovery);
              void chain.then(() => {
                recoveryStarted[i]!.delete(onRecovery);
                resolve();
              });
            }),
      ),
    ).then(() => undefined);

  /**
   * Reloads projection i's checkpoint and replays the log from it up to `target` (the
   * position the run had handed it), in batches read straight from the store, the next
   * page read while the current one is applied. Its chain is busy meanwhile: live batches
   * queue behind and are then applied from the new position (filtered by `applied`).
   */
  const replay = async (i: number, target: number, kind: 'reset' | 'transient'): Promise<void> => {
    const projection = projections[i]!;
    const started = performance.now();
    const from = (await projection.loadCheckpoint()) ?? -1;
    applied[i] = from;
    const rebuilding = kind === 'reset';
    const read = (after: number) => {
      const pending = store.readAll({ after, maxCount: batchSize, filter });
      pending.catch(() => undefined); // awaited below; a failure while a batch is applied is not unhandled
      return pending;
    };
    let count = 0;
    if (rebuilding && from === -1 && target > -1 && projection.rebuildFromLog) {
      const fast = await projection.rebuildFromLog({
        target,
        read: (after, maxCount) => {
          const pending = store.readAll({ after, maxCount, filter });
          pending.catch(() => undefined); // awaited by the projection
          return pending;
        },
        stopped,
      });
      if (stopped()) return;
      if (fast && fast.position > -1) {
        applied[i] = fast.position;
        count += fast.events;
        settleWaiters();
      }
    }
    let page = applied[i]! < target ? read(applied[i]!) : undefined;
    while (page && !stopped()) {
      const events = (await page).filter((e) => e.position <= target);
      const last = events.at(-1)?.position;
      page = last !== undefined && last < target ? read(last) : undefined;
      if (last === undefined) break;
      await applyMeasured(i, events, { rebuilding });
      applied[i] = last;
      count += events.length;
      settleWaiters();
    }
    await page?.catch(() => undefined);
    if (stopped()) return;
    if (rebuilding) await projection.afterRebuild?.();
    options.onRecovered?.({
      projection: projection.name,
      kind,
      from,
      to: applied[i]!,
      events: count,
      ms: Math.round(performance.now() - started),
    });
  };

  /** Recovers projection i after `error` (a reset or a transient failure); rethrows anything else. */
  /** Recoveries each projection has finished (a reset asked for before one finished is covered by it). */
  const recoveries = projections.map(() => 0);
  const recover = async (i: number, target: number, error: unknown): Promise<void> => {
    recovering[i] = true;
    for (const wake of [...recoveryStarted[i]!]) wake();
    try {
      await recoverAttempts(i, target, error);
    } finally {
      recovering[i] = false;
      recoveries[i]!++;
    }
  };
  const recoverAttempts = async (i: number, target: number, error: unknown): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const kind = isProjectionReset(error) ? 'reset' : 'transient';
      if (kind === 'transient' && !options.isTransient?.(error)) throw error;
      // A reset replays at once (its store answered); a failure that should pass waits first.
      const retryInMs = kind === 'reset' && attempt === 0 ? 0 : Math.min(5000, 100 * 2 ** attempt);
      options.onRecover?.({ projection: projections[i]!.name, kind, error, retryInMs });
      if (retryInMs > 0) await new Promise((resolve) => setTimeout(resolve, retryInMs));
      if (stopped()) return;
      try {
        await replay(i, Math.max(target, applied[i]!), kind);
        return;
      } catch (next) {
        error = next;
      }
    }
  };

  const flush = (): Promise<void> => {
    scheduled = false;
    if (buffer.length === 0) return drained();
    const batch = buffer;
    buffer = [];
    projections.forEach((_projection, i) => {
      backlog[i]! += batch.length;
      chains[i] = chains[i]!.then(async () => {
        backlog[i]! -= batch.length;
        if (failed) return;
        const from = applied[i]!;
        const events = batch[0]!.position > from ? batch : batch.filter((e) => e.position > from);
        if (events.length === 0) return;
        try {
          try {
            await applyMeasured(i, events);
            applied[i] = events[events.length - 1]!.position;
            settleWaiters();
          } catch (error) {
            await recover(i, events[events.length - 1]!.position, error);
          }
        } catch (error) {
          fail(error);
        }
      });
    });
    return drained();
  };

  /** A projection asked for a reset between batches: rebuild it on its chain, up to what the run has seen. */
  const requestReset = (i: number, reason: string) => {
    // A recovery that finishes after this request (one under way now, or one that starts before
    // the request's turn on the chain) rebuilt from a state at least as new as the one the request
    // saw, so the request is covered and would only rebuild again. (After a Redis restart the
    // reconnect check and the first batch both see the epoch gone, within milliseconds.)
    const asked = recoveries[i]!;
    chains[i] = chains[i]!.then(async () => {
      if (stopped() || recoveries[i]! > asked) return;
      try {
        await recover(i, Math.max(lastSeen, applied[i]!), new ProjectionReset(projections[i]!.name, reason));
      } catch (error) {
        fail(error);
      }
    });
  };
  const unlisten = projections.map((projection, i) =>
    projection.onResetNeeded ? projection.onResetNeeded((reason) => requestReset(i, reason)) : () => undefined,
  );

  let subscription: Subscription | undefined;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = error;
    for (const stop of unlisten) stop();
    for (const waiter of waiters) waiter.reject(error);
    waiters.clear();
    options.onError?.(error);
    void subscription?.close();
  };

  subscription = store.subscribeToAll({
    after: start,
    filter,
    batchSize,
    onError: fail,
    handler: async (event) => {
      if (failed) throw failed;
      buffer.push(event);
      lastSeen = event.position;
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
      .then(() => all())
      .then(() => {
        if (failed) throw failed;
      }),
    position: lowest,
    positions: () => Object.fromEntries(projections.map((p, i) => [p.name, applied[i]!])),
    waitFor(position) {
      if (failed) return Promise.reject(failed);
      if (lowest() >= position) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.add({ position, resolve, reject }));
    },
    done: sub.done.then(() => all()),
    async close() {
      for (const stop of unlisten) stop();
      await sub.close();
      closing = true; // a replay in progress stops after its current batch (it resumes from the checkpoint next time)
      await flush();
      await all();
    },
  };
}

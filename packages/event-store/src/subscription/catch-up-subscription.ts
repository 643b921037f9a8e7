import type { AllFilter, RecordedEvent, SubscribeOptions, Subscription } from '../types.js';
import type { ChangeSignal } from './change-signal.js';
import { createCaughtUpSignal, settleRun } from './subscription-lifecycle.js';

/** One page of the global log, as an adapter reads it for a subscription. */
export interface LogPage {
  events: RecordedEvent[];
  /**
   * Everything at or below this position has been considered (delivered or filtered out) and
   * nothing can appear there later. At least the last event's position.
   */
  scannedTo: number;
  /** Committed events exist beyond `scannedTo` that are not deliverable yet (postgres: held back by an older open transaction). */
  heldBack: boolean;
  /** Highest committed position at read time (-1 for an empty log). */
  head: number;
}

/** What an adapter provides so the shared catch-up loop can run on it. */
export interface LogSource {
  readPage(after: number, maxCount: number, filter: AllFilter | undefined): Promise<LogPage>;
  /** Highest committed position now (-1 for an empty log). */
  head(): Promise<number>;
  readonly changes: ChangeSignal;
  /**
   * Whether a failed read is expected to pass (connection lost, server restarting): the
   * subscription then reads again from its position after a backoff instead of stopping.
   * @defaultValue every read error stops the subscription
   */
  isTransient?(error: unknown): boolean;
}

/** Backoff between attempts after transient read errors: 50 ms, doubling, at most 5 s. */
const retryDelay = (failures: number): number => Math.min(5000, 50 * 2 ** failures);

export interface CatchUpTiming {
  /** Sleep between reads when nothing is held back (a safety net for lost notifications). */
  idlePollMs: number;
  /** Sleep between reads while committed events wait behind an older open transaction. */
  heldBackPollMs: number;
  /**
   * Live reads (not catch-up pages) start at least this long after the previous one. Under
   * constant writes every commit's wake-up would otherwise start a read as soon as the last
   * one returned — a read per commit, each bringing an event or two; spacing them lets one
   * read bring every event committed meanwhile, at the cost of at most this much delay.
   * The first change after a quiet spell is read at once. @defaultValue 0
   */
  minReadIntervalMs?: number;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The catch-up subscription loop shared by every adapter that reads the log by position:
 * page through history, then sleep until a change signal or a poll timer, and read again.
 * Handler calls are sequential and awaited; a handler error stops the subscription.
 */
export function startCatchUpSubscription(
  source: LogSource,
  options: SubscribeOptions,
  timing: CatchUpTiming,
  onStopped: (subscription: Subscription) => void,
): Subscription {
  const batchSize = options.batchSize ?? 500;
  const abort = new AbortController();
  let lastPosition = options.after ?? -1;
  const caughtUpSignal = createCaughtUpSignal();

  /** A read in flight; `seen` is the change version before it started (so no wake-up is lost). */
  interface PendingRead {
    seen: number;
    page: Promise<LogPage>;
  }
  const startRead = (after: number): PendingRead => {
    const seen = source.changes.version;
    const page = source.readPage(after, batchSize, options.filter);
    page.catch(() => undefined); // awaited below; never an unhandled rejection after close
    return { seen, page };
  };

  const minReadIntervalMs = timing.minReadIntervalMs ?? 0;
  let lastReadAt = Number.NEGATIVE_INFINITY;

  /**
   * After a read failed: true if the loop should read again (the error is transient; waited
   * the backoff), false to stop quietly (closed meanwhile); rethrows anything else.
   */
  let failures = 0;
  const retryAfter = async (error: unknown): Promise<boolean> => {
    if (abort.signal.aborted) return false;
    if (!source.isTransient?.(error)) throw error;
    const delay = retryDelay(failures++);
    options.onTransientError?.(error, delay);
    await sleep(delay, abort.signal);
    return !abort.signal.aborted;
  };

  const run = async (): Promise<void> => {
    let cursor = lastPosition;
    let target: number | undefined;
    while (target === undefined) {
      try {
        target = await source.head();
      } catch (error) {
        if (!(await retryAfter(error))) return;
      }
    }
    let next: PendingRead | undefined;
    try {
      while (!abort.signal.aborted) {
        if (!next && minReadIntervalMs > 0) {
          const wait = lastReadAt + minReadIntervalMs - performance.now();
          if (wait > 0) await sleep(wait, abort.signal);
          if (abort.signal.aborted) return;
        }
        if (!next) lastReadAt = performance.now();
        const read = next ?? startRead(cursor);
        next = undefined;
        let page: LogPage;
        try {
          page = await read.page;
          failures = 0;
        } catch (error) {
          // Read again from the last handled position (nothing after it was handed over).
          if (await retryAfter(error)) continue;
          return;
        }
        const full = page.events.length >= batchSize;
        // While catching up, fetch the next page while this one is being handled.
        if (full) next = startRead(page.events[page.events.length - 1]!.position);
        for (const event of page.events) {
          if (abort.signal.aborted) return;
          const handled = options.handler(event);
          // Await only real promises: a microtask hop per event is measurable when catching up.
          if (handled && typeof (handled as Promise<void>).then === 'function') await handled;
          lastPosition = event.position;
          cursor = event.position;
        }
        if (abort.signal.aborted) return;
        if (!full) cursor = Math.max(cursor, page.scannedTo);
        if (!caughtUpSignal.isCaughtUp && cursor >= target) caughtUpSignal.resolve();
        if (full) continue;
        await source.changes.wait(read.seen, page.heldBack ? timing.heldBackPollMs : timing.idlePollMs, abort.signal);
      }
    } finally {
      // The store's close() waits for `done`; no query may still be running on its pool then.
      await next?.page.catch(() => undefined);
    }
  };

  const done = settleRun(run(), abort, caughtUpSignal, options.onError);

  const subscription: Subscription = {
    caughtUp: caughtUpSignal.caughtUp,
    get lastPosition() {
      return lastPosition;
    },
    done,
    async close() {
      abort.abort();
      await done;
    },
  };
  void done.then(() => onStopped(subscription));
  return subscription;
}

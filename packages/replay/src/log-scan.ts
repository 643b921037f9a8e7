import {
  type AllFilter,
  type EventStore,
  type LogEvent,
  logEventOf,
  type ReadLogOptions,
  type RecordedEvent,
  type StreamLogOptions,
} from '@mm/event-store';
import { isWithin, type LogBound } from './log-bound.js';

/** The categories the projections follow (the same filter as the projector). */
export const MATCHMAKING_CATEGORIES: AllFilter = { categories: ['player', 'match', 'challenge'] };

/** Progress of a replay: events read so far, and how far into the log. */
export interface ReplayProgress {
  events: number;
  position: number;
}

/**
 * A page of the log as {@link LogEvent}s: `readLog` where the store has it (PostgreSQL reads only
 * those columns), else `readAll`'s events cut down to them.
 */
export async function readLogPage(store: EventStore, options: ReadLogOptions): Promise<LogEvent[]> {
  if (store.readLog) return store.readLog(options);
  const events = await store.readAll(options);
  return events.map((e) => logEventOf(e, true));
}

/**
 * The log from `options.after` on as pages of {@link LogEvent}s, up to the first empty page:
 * `streamLog` where the store has it (PostgreSQL reads and decodes ahead in a thread), else
 * {@link readLogPage} with the next page requested before the current one is handed over.
 * Leaving the loop early stops the reading.
 */
export async function* logPages(store: EventStore, options: StreamLogOptions): AsyncGenerator<LogEvent[]> {
  if (store.streamLog) {
    yield* store.streamLog(options);
    return;
  }
  const read = (after: number) => {
    const page = readLogPage(store, { ...options, after });
    page.catch(() => undefined); // awaited below, or dropped when the caller stops
    return page;
  };
  let next = read(options.after ?? -1);
  for (;;) {
    const page = await next;
    if (page.length === 0) return;
    next = read(page[page.length - 1]!.position);
    yield page;
  }
}

export interface ScanOptions {
  /** Exclusive start. @defaultValue -1 (the beginning) */
  after?: number;
  /** Inclusive end. @defaultValue the end of the log as it is while read */
  to?: LogBound;
  /** @defaultValue {@link MATCHMAKING_CATEGORIES} */
  filter?: AllFilter;
  /** Events per read. @defaultValue 2000 */
  pageSize?: number;
  onProgress?: (progress: ReplayProgress) => void;
}

/**
 * Reads the log page by page in position order and hands each page over (awaited, so one
 * page is in memory at a time). Returns the last position handed over (-1: none) and the count.
 */
export async function scanLog(
  store: EventStore,
  onPage: (events: RecordedEvent[]) => Promise<void> | void,
  options: ScanOptions = {},
): Promise<{ lastPosition: number; events: number }> {
  const pageSize = options.pageSize ?? 2000;
  const filter = options.filter ?? MATCHMAKING_CATEGORIES;
  let after = options.after ?? -1;
  let lastPosition = after;
  let count = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize, filter });
    if (page.length === 0) break;
    let take = page.length;
    if (options.to !== undefined) {
      take = 0;
      while (take < page.length && isWithin(page[take]!, options.to)) take++;
    }
    if (take > 0) {
      const events = take === page.length ? page : page.slice(0, take);
      await onPage(events);
      count += events.length;
      lastPosition = events[events.length - 1]!.position;
      options.onProgress?.({ events: count, position: lastPosition });
    }
    if (take < page.length) break;
    after = page[page.length - 1]!.position;
  }
  return { lastPosition, events: count };
}

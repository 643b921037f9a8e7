import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { LogEvent, StreamLogOptions } from '../types.js';

/*
 * `streamLog`: the log read and decoded in a worker thread (log-reader-worker.ts) while the
 * caller handles the pages already read — a replay of the whole log is CPU-bound in the client,
 * and the thread takes the driver's row parsing, the hex and the inflating off the caller's.
 *
 * The thread has its own store on its own connection and reads `readLogText` pages (the same
 * statement, horizon and wait as `readLog`), up to `ahead` pages ahead of the caller. Each page
 * crosses as a few arrays: positions, schema versions and times in typed arrays (moved, not
 * copied), types and tenants as indexes into the page's distinct names, and the data of the
 * events as JSON array texts of at most {@link DATA_CHUNK} characters each — the caller parses
 * each with one `JSON.parse`. A page's data as one text (≈ 0.5 MB for 2000 events) went to V8's
 * large-object space on both sides, fresh memory each time: ≈ 160,000 page faults and ≈ 2 s of
 * system time per 1M events; texts below the large-object size are young-generation garbage.
 */

/** The most characters of one data text (V8 allocates strings above ≈ 128 K in its large-object space). */
export const DATA_CHUNK = 1 << 16;

/** How the reader thread connects: the store's connection settings that can cross to a thread. */
export type ReaderConnection = Record<string, string | number | boolean>;

/** What crosses from the store to its reader thread. */
export interface ReaderData {
  connection: ReaderConnection;
  schema: string;
  readAllSettleMs: number;
  appenderHorizonAfterMs: number;
  /** Connections of the thread's store (1: no page read while the one before is decoded). */
  poolSize: number;
  /** Events per `COPY` statement of the bulk read (0: pages only); see `logReaderCopyRows`. */
  copyRows: number;
  options: StreamLogOptions;
}

/** One page, as the thread posts it. */
export interface PageMessage {
  positions: Float64Array;
  versions: Int16Array;
  typeNames: string[];
  typeIndex: Uint16Array;
  tenantNames: string[];
  tenantIndex: Uint16Array;
  /** The data of the page's events in order, as JSON array texts `[d1,d2,…]` of at most {@link DATA_CHUNK} characters (one event's may be longer). */
  data: string[];
  times: Float64Array | null;
}

export type ReaderMessage =
  | { page: PageMessage }
  | { end: true }
  | { error: { message: string; name: string; code?: string } };

/** The store's connection settings a thread can use: strings, numbers and booleans (no functions, no pool). */
export function readerConnectionOf(
  connectionString: string | undefined,
  pool: pg.Pool,
  applicationName: string | undefined,
): ReaderConnection {
  const out: ReaderConnection = {};
  const source = (connectionString ? { connectionString } : pool.options) as Record<string, unknown>;
  for (const [key, value] of Object.entries(source))
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  if (applicationName) out.application_name = applicationName;
  return out;
}

const startReader = (data: ReaderData): Worker =>
  // From the TypeScript sources the thread's module is .ts, started through tsx's loader.
  import.meta.url.endsWith('.ts')
    ? new Worker(new URL('./ts-worker.mjs', import.meta.url), {
        workerData: { entry: new URL('./log-reader-worker.ts', import.meta.url).href, data },
      })
    : new Worker(new URL('./log-reader-worker.js', import.meta.url), { workerData: { data } });

/** The events of a page message, their data parsed from its JSON texts. */
function eventsOf(page: PageMessage): LogEvent[] {
  const n = page.positions.length;
  const events: LogEvent[] = new Array(n);
  let i = 0;
  for (const text of page.data) {
    let data: unknown[];
    try {
      data = JSON.parse(text) as unknown[];
    } catch (error) {
      throw new Error(
        `event data between positions ${page.positions[i]} and ${page.positions[n - 1]} is not JSON: ${(error as Error).message}`,
      );
    }
    for (const value of data) {
      if (i >= n) throw new Error(`a log page of ${n} events carried more data than events`);
      const event: LogEvent = {
        position: page.positions[i]!,
        type: page.typeNames[page.typeIndex[i]!]!,
        schemaVersion: page.versions[i]!,
        tenantId: page.tenantNames[page.tenantIndex[i]!]!,
        data: value as LogEvent['data'],
      };
      if (page.times) event.recordedAt = new Date(page.times[i]!);
      events[i++] = event;
    }
  }
  if (i !== n) throw new Error(`a log page of ${n} events carried the data of ${i}`);
  return events;
}

/**
 * The log from `options.after` on as pages of `LogEvent`s, read and decoded in a worker thread
 * up to `options.ahead` pages ahead; ends after the first empty page. Returning early (a `break`
 * out of the loop) or an error stops the thread.
 */
export async function* streamLogInThread(
  store: Omit<ReaderData, 'options'>,
  options: StreamLogOptions,
): AsyncGenerator<LogEvent[]> {
  const worker = startReader({ ...store, options });
  const queue: ReaderMessage[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const push = (message: ReaderMessage) => {
    queue.push(message);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (error) => {
    failure = error;
    wake?.();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`log reader thread exited with code ${code}`);
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      const message = queue.shift()!;
      if ('end' in message) return;
      if ('error' in message) {
        const error = new Error(message.error.message) as Error & { code?: string };
        error.name = message.error.name;
        if (message.error.code !== undefined) error.code = message.error.code;
        throw error;
      }
      worker.postMessage('next'); // the thread reads one more page ahead
      yield eventsOf(message.page);
    }
  } finally {
    worker.removeAllListeners();
    worker.on('error', () => undefined);
    await worker.terminate();
  }
}

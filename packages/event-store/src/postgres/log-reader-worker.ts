import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { DATA_CHUNK, type PageMessage, type ReaderData, type ReaderMessage } from './log-reader.js';
import { createPostgresEventStore } from './postgres-event-store.js';
import type { LogText } from './rows.js';

/*
 * The log reader thread of `streamLog` (log-reader.ts): its own store reads the log from `after`
 * on — first in binary `COPY` statements of `copyRows` events (`copyLogText`, log-copy.ts) while
 * they come back full, then `readLogText` pages — up to `ahead` pages ahead of what the caller
 * has taken, and posts each page as arrays and JSON texts of its data; after the first empty
 * page it posts `end`.
 */
const { data } = workerData as { data: ReaderData };
const port = parentPort!;
const post = (message: ReaderMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const { connectionString } = data.connection as { connectionString?: string };
// a store made on a pool of the caller's: a pool of two connections with its settings (ended below)
const pool = connectionString === undefined ? new pg.Pool({ ...data.connection, max: data.poolSize }) : undefined;
const store = await createPostgresEventStore({
  ...(pool ? { pool } : { connectionString }),
  ...(typeof data.connection.application_name === 'string'
    ? { applicationName: data.connection.application_name }
    : {}),
  schema: data.schema,
  poolSize: data.poolSize, // 2: a page read while the one before is decoded
  migrate: false,
  partitionCheckMs: 0,
  readAllSettleMs: data.readAllSettleMs,
  appenderHorizonAfterMs: data.appenderHorizonAfterMs,
  dataCompression: false,
}).catch((error: unknown) => {
  post({ error: describe(error) });
  throw error;
});

function describe(error: unknown): { message: string; name: string; code?: string } {
  const e = error as { message?: string; name?: string; code?: unknown };
  return {
    message: e.message ?? String(error),
    name: e.name ?? 'Error',
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

/** A page as arrays: names and tenants as indexes into the page's distinct ones, the data as JSON array texts below the large-object size. */
function pageMessage(events: LogText[]): { page: PageMessage; transfer: ArrayBuffer[] } {
  const n = events.length;
  const positions = new Float64Array(n);
  const versions = new Int16Array(n);
  const typeIndex = new Uint16Array(n);
  const tenantIndex = new Uint16Array(n);
  const times = events[0]?.recordedAt !== undefined ? new Float64Array(n) : null;
  const typeNames: string[] = [];
  const tenantNames: string[] = [];
  const typeAt = new Map<string, number>();
  const tenantAt = new Map<string, number>();
  const data: string[] = [];
  let text = '';
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    positions[i] = event.position;
    versions[i] = event.schemaVersion;
    let t = typeAt.get(event.type);
    if (t === undefined) {
      t = typeNames.push(event.type) - 1;
      typeAt.set(event.type, t);
    }
    typeIndex[i] = t;
    let k = tenantAt.get(event.tenantId);
    if (k === undefined) {
      k = tenantNames.push(event.tenantId) - 1;
      tenantAt.set(event.tenantId, k);
    }
    tenantIndex[i] = k;
    if (times) times[i] = event.recordedAt!.getTime();
    if (text.length > 0 && text.length + event.data.length >= DATA_CHUNK) {
      data.push(`${text}]`);
      text = '';
    }
    text += text.length === 0 ? `[${event.data}` : `,${event.data}`;
  }
  if (text.length > 0) data.push(`${text}]`);
  const page: PageMessage = { positions, versions, typeNames, typeIndex, tenantNames, tenantIndex, data, times };
  const transfer = [positions.buffer, versions.buffer, typeIndex.buffer, tenantIndex.buffer];
  if (times) transfer.push(times.buffer);
  return { page, transfer: transfer as ArrayBuffer[] };
}

let credit = data.options.ahead ?? 3;
let waiting: (() => void) | undefined;
port.on('message', () => {
  credit++;
  waiting?.();
});

/** Waits until the caller has room for one more page, and takes it. */
async function takeCredit(): Promise<void> {
  while (credit <= 0) await new Promise<void>((resolve) => (waiting = resolve));
  waiting = undefined;
  credit--;
}

function postPage(events: LogText[]): void {
  const { page, transfer } = pageMessage(events);
  post({ page }, transfer);
}

try {
  const { ahead: _ahead, ...read } = data.options;
  let after = read.after ?? -1;
  // the bulk: COPY statements while they come back full
  for (let full = data.copyRows > 0; full; ) {
    let copied = 0;
    for await (const events of store.copyLogText({ ...read, after, limit: data.copyRows })) {
      copied += events.length;
      after = events[events.length - 1]!.position;
      await takeCredit();
      postPage(events);
    }
    full = copied >= data.copyRows;
  }
  const fetch = (after: number) => {
    const rows = store.readLogRows({ ...read, after });
    rows.catch(() => undefined); // awaited below
    return rows;
  };
  // The next page is asked for as soon as this one's rows are in, and PostgreSQL reads it while
  // this thread decodes and posts this one.
  let next = fetch(after);
  for (;;) {
    const rows = await next;
    if (rows.length === 0) {
      post({ end: true });
      break;
    }
    await takeCredit();
    next = fetch(Number(rows[rows.length - 1]![2]));
    postPage(rows.map((row) => store.logText(row)));
  }
} catch (error) {
  post({ error: describe(error) });
} finally {
  await store.close();
  await pool?.end();
}

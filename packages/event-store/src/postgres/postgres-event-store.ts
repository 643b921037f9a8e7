import pg from 'pg';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.js';
import { assertAppendable, assertMultiAppendable } from '../expected-revision.js';
import { type LogPage, type LogSource, startCatchUpSubscription } from '../subscription/catch-up-subscription.js';
import { ChangeSignal } from '../subscription/change-signal.js';
import type {
  AllFilter,
  AppendResult,
  CurrentRevision,
  EventData,
  EventStore,
  ExpectedRevision,
  LogEvent,
  ReadAllOptions,
  ReadLogOptions,
  RecordedEvent,
  StreamAppend,
  StreamLogOptions,
  Subscription,
} from '../types.js';
import { ChangeListener } from './change-listener.js';
import { isConnectionError } from './connection-errors.js';
import { DataCodec, type DataCompressionOptions } from './data-codec.js';
import { copyLogText } from './log-copy.js';
import { readerConnectionOf, streamLogInThread } from './log-reader.js';
import { migrateEventStore } from './migrate.js';
import {
  EventNames,
  type EventRow,
  type LogRow,
  type LogText,
  prepareLogRows,
  prepareRows,
  toEvent,
  toLogEvent,
  toLogText,
  UNPARSED,
} from './rows.js';
import {
  EVENT_COLUMNS,
  EXPECTED_REVISION_CODE,
  LOG_COLUMNS,
  LOG_TIME_COLUMN,
  lastRevisionQuery,
  NOTIFY_CHANNEL,
  pageQuery,
  quoteIdentifier,
  streamRowsQuery,
} from './sql.js';

export interface PostgresEventStoreOptions {
  /** Connection string; the store creates and owns a pool. Give this or `pool`. */
  connectionString?: string;
  /** An existing pool (not ended by `close()`). Give this or `connectionString`. */
  pool?: pg.Pool;
  /** Schema holding the store's tables. @defaultValue 'public' */
  schema?: string;
  /** Size of the pool the store creates from `connectionString`. @defaultValue 10 */
  poolSize?: number;
  /**
   * PostgreSQL `application_name` of the store's own connections (its pool when it creates it,
   * and its LISTEN connection), so operators and tests can find them in `pg_stat_activity`.
   * @defaultValue the connection string's, else none
   */
  applicationName?: string;
  /** Run the migrations (node-pg-migrate) before returning the store. @defaultValue true */
  migrate?: boolean;
  /** Subscriptions re-read this often when no notification arrives (safety net). @defaultValue 1000 */
  idlePollMs?: number;
  /** Subscriptions re-read this often while committed events wait behind an older open transaction. @defaultValue 20 */
  heldBackPollMs?: number;
  /**
   * A subscription's live reads start at least this far apart: under constant writes one read
   * then brings several commits instead of one read per commit (see `CatchUpTiming`). @defaultValue 5
   */
  minReadIntervalMs?: number;
  /**
   * `readAll` waits up to this long for transactions older than the newest committed event to
   * finish, so that a read right after an append sees it. It never returns an unsafe page;
   * after the wait it returns the safe prefix. @defaultValue 2000
   */
  readAllSettleMs?: number;
  /**
   * When a page's horizon (the oldest transaction running on the cluster) has not moved for this
   * long while events wait above it, the page is read with the horizon of the appending
   * transactions only (`event_delivery_horizon()`, migration 1700000000009): a long transaction
   * that appends nothing — a bulk load, a rebuild's batch, in any database of the cluster — then
   * holds readers back this long instead of to its end. @defaultValue 50
   */
  appenderHorizonAfterMs?: number;
  /**
   * Connections of `streamLog`'s reader thread, on top of `poolSize` (a process that shares a
   * connection budget counts them in it). @defaultValue 2 (a page read while the one before is decoded)
   */
  logReaderPoolSize?: number;
  /**
   * `streamLog`'s reader thread reads the log in `COPY` statements of this many events (log-copy.ts)
   * while they come back full, then in pages as `readLog`; 0: in pages only. @defaultValue 100,000
   */
  logReaderCopyRows?: number;
  /**
   * Partitions of the log (`ensure_event_partitions`, run at start and whenever an append finds
   * no partition for its transaction): each new partition spans what the previous one took
   * `partitionPeriod` to fill (a PostgreSQL interval). @defaultValue '1 day'
   */
  partitionPeriod?: string;
  /** A fixed span of transaction ids per new partition instead (tests, small deployments). */
  partitionSpanXids?: number;
  /**
   * The store checks this often that the next partition exists (so appends rarely find none and
   * the partition is made before it is needed, not by a failing append). 0 = only at start and
   * when an append finds none. @defaultValue 600000
   */
  partitionCheckMs?: number;
  /**
   * Event data compressed with a dictionary per event type, trained from the first events of it
   * (src/postgres/data-codec.ts); `false` stores every event's data as plain `json`. Reading
   * handles both either way. @defaultValue {}
   */
  dataCompression?: DataCompressionOptions | false;
}

/** The postgres store plus what its own tests need. */
export interface PostgresEventStore extends EventStore {
  readonly schema: string;
  /** The store's LISTEN connection (exposed for the reconnect test). */
  readonly listener: ChangeListener;
  readLog(options?: ReadLogOptions): Promise<LogEvent[]>;
  /** `readLog` with each event's data as its JSON text. */
  readLogText(options?: ReadLogOptions): Promise<LogText[]>;
  /**
   * `readLog`'s page as the rows came (PostgreSQL's text), decoded later with {@link logText} —
   * the log reader thread asks for the next page before it decodes this one.
   */
  readLogRows(options?: ReadLogOptions): Promise<LogRow[]>;
  /** A row of {@link readLogRows} as a `LogText` (the data as JSON text). */
  logText(row: LogRow): LogText;
  /**
   * `readLogText`'s events from `after` on, at most `limit`, below one statement's horizon, read
   * with one binary `COPY` on a connection of its own and handed over in pages of `maxCount`
   * (log-copy.ts): the log reader thread's bulk read. Fewer than `limit` events: the rest of the
   * log is above the horizon or not there yet (read on with `readLogText`).
   */
  copyLogText(options: ReadLogOptions & { limit: number }): AsyncGenerator<LogText[]>;
  /** `readLog`'s pages read and decoded ahead in a worker thread with its own connection (log-reader.ts). */
  streamLog(options?: StreamLogOptions): AsyncGenerator<LogEvent[]>;
}

interface PageRow extends EventRow {
  horizon: string;
  head: string | null;
}

/** The rows of a lean page are in position order (they come unsorted: `pageQuery`'s `sorted`). */
const inPositionOrder = (rows: readonly LogRow[]): boolean => {
  for (let i = 1; i < rows.length; i++) if (Number(rows[i]![2]) <= Number(rows[i - 1]![2])) return false;
  return true;
};

/** A page of the log as read (see `LogPage`), with the horizon it was read below. */
interface Page<E> {
  events: E[];
  scannedTo: number;
  heldBack: boolean;
  head: number;
  horizon: number;
}

/** "no partition of relation … found for row": the append's transaction id is past the last partition. */
const isMissingPartition = (error: unknown): boolean =>
  (error as { code?: string }).code === '23514' && /no partition/.test((error as Error).message ?? '');

const expectedCode = (expected: ExpectedRevision): number => {
  if (typeof expected === 'number') {
    if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`invalid expected revision ${expected}`);
    return expected;
  }
  return EXPECTED_REVISION_CODE[expected];
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries after losing a unique-key race; each retry re-checks from committed state, so a handful always suffices in practice. */
const MAX_APPEND_ATTEMPTS = 100;

/**
 * PostgreSQL event store. See the package README for the storage layout and why the global
 * position is derived from the transaction id.
 */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const schema = options.schema ?? 'public';
  const ownsPool = !options.pool;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    });
  if (!options.pool && !options.connectionString)
    throw new Error('createPostgresEventStore: give connectionString or pool');
  const readerConnection = readerConnectionOf(options.connectionString, pool, options.applicationName);
  const logReaderPoolSize = Math.max(1, options.logReaderPoolSize ?? 2);
  const logReaderCopyRows = Math.max(0, Math.floor(options.logReaderCopyRows ?? 100_000));
  // An idle pooled connection that dies must not crash the process; the next query reconnects.
  if (ownsPool) pool.on('error', () => undefined);

  if (options.migrate ?? true) {
    try {
      await migrateEventStore({ connection: pool, schema });
    } catch (error) {
      if (ownsPool) await pool.end();
      throw error;
    }
  }

  const codec = new DataCodec(pool, schema, options.dataCompression ?? {});
  const names = new EventNames(pool, schema);
  try {
    await codec.load();
  } catch (error) {
    if (ownsPool) await pool.end();
    throw error;
  }

  const table = `${quoteIdentifier(schema)}.events`;
  const ensurePartitionsSql = `SELECT ${quoteIdentifier(schema)}.ensure_event_partitions($1::interval, $2::bigint)`;
  const ensurePartitions = async () => {
    await pool.query(ensurePartitionsSql, [options.partitionPeriod ?? '1 day', options.partitionSpanXids ?? null]);
  };
  try {
    await ensurePartitions();
  } catch (error) {
    if (ownsPool) await pool.end();
    throw error;
  }
  const appendSql = `SELECT next_expected_revision, last_position FROM ${quoteIdentifier(schema)}.append_events($1, $2, $3::json, $4, false)`;
  const appendManySql = `SELECT append_index, next_expected_revision, last_position FROM ${quoteIdentifier(schema)}.append_to_streams($1::json, $2)`;
  const statementPrefix = `mm-es:${schema}:`;
  const idlePollMs = options.idlePollMs ?? 1000;
  const heldBackPollMs = options.heldBackPollMs ?? 20;
  const minReadIntervalMs = options.minReadIntervalMs ?? 5;
  const readAllSettleMs = options.readAllSettleMs ?? 2000;
  const changes = new ChangeSignal();
  const listener = new ChangeListener(
    {
      ...(options.connectionString ? { connectionString: options.connectionString } : pool.options),
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    },
    schema,
    changes,
  );
  const subscriptions = new Set<Subscription>();
  let closed = false;
  const partitionCheckMs = options.partitionCheckMs ?? 600_000;
  const partitionCheck =
    partitionCheckMs > 0
      ? setInterval(() => {
          if (!closed) ensurePartitions().catch(() => undefined); // an append that finds none makes it then
        }, partitionCheckMs).unref()
      : undefined;

  // Wake-ups after commit, coalesced: at most one NOTIFY in flight, one more queued behind
  // it however many appends finish meanwhile. (Why not inside the append: see the migration.)
  // The NOTIFY runs in its own xid-less transaction, so it never waits for a WAL flush while
  // holding the notify lock. This store's own subscriptions are woken directly.
  let announcePending = false;
  let announcing: Promise<void> | undefined;
  const announceAppend = () => {
    changes.notify();
    announcePending = true;
    announcing ??= (async () => {
      while (announcePending && !closed) {
        announcePending = false;
        await pool
          .query({
            name: `${statementPrefix}notify`,
            text: 'SELECT pg_notify($1, $2)',
            values: [NOTIFY_CHANNEL, schema],
          })
          .catch(() => undefined); // the safety poll still delivers
      }
    })().finally(() => {
      announcing = undefined;
    });
  };

  const assertOpen = () => {
    if (closed) throw new Error('event store is closed');
  };

  const eventsPayload = (events: EventData[]) =>
    events.map((event) => ({
      id: event.id,
      type: event.type,
      schemaVersion: event.schemaVersion ?? 1,
      ...codec.encode(event.type, event.schemaVersion ?? 1, event.data),
      metadata: event.metadata,
    }));

  /**
   * Runs an append statement, retrying after a lost unique-key race (the retry sets
   * p_check_ids, which then reports the typed outcome against the committed winner), and
   * maps the function's typed errors. `part` picks the failing part of a multi-stream append
   * from the error's HINT.
   */
  const runAppend = async <Row extends pg.QueryResultRow>(
    statement: { name: string; text: string; values: unknown[] },
    part: (hint: string | undefined) => { streamName: string; expected: ExpectedRevision; events: EventData[] },
  ): Promise<Row[]> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await pool.query<Row>({ ...statement, values: [...statement.values, attempt > 0] });
        announceAppend();
        return result.rows;
      } catch (error) {
        const { code: sqlState, detail, hint } = error as { code?: string; detail?: string; hint?: string };
        if (sqlState === 'ES001') {
          const { streamName, expected } = part(hint);
          const actual: CurrentRevision = detail === 'no_stream' || detail === undefined ? 'no_stream' : Number(detail);
          throw new WrongExpectedRevisionError(streamName, expected, actual);
        }
        if (sqlState === 'ES002') {
          const { streamName, events } = part(hint);
          throw new EventIdConflictError(
            streamName,
            events.map((event) => event.id),
          );
        }
        // The transaction ids went past the last partition: make the next ones, then try again.
        if (isMissingPartition(error) && attempt < MAX_APPEND_ATTEMPTS) {
          await ensurePartitions();
          continue;
        }
        // 23505: a replay of an append, or a concurrent one, hit an event id stored already.
        // 40P01: two multi-stream appends took the same streams in opposite orders; PostgreSQL
        // rolled this one back whole, so it can run again.
        if ((sqlState === '23505' || sqlState === '40P01') && attempt < MAX_APPEND_ATTEMPTS) continue;
        throw error;
      }
    }
  };

  const appendToStream = async (
    streamName: string,
    events: EventData[],
    appendOptions?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> => {
    assertOpen();
    assertAppendable(streamName, events);
    const expected = appendOptions?.expectedRevision ?? 'any';
    const rows = await runAppend<{ next_expected_revision: string; last_position: string }>(
      {
        name: `${statementPrefix}append`,
        text: appendSql,
        values: [streamName, expectedCode(expected), JSON.stringify(eventsPayload(events))],
      },
      () => ({ streamName, expected, events }),
    );
    const row = rows[0]!;
    return { nextExpectedRevision: Number(row.next_expected_revision), position: Number(row.last_position) };
  };

  const appendToStreams = async (appends: StreamAppend[]): Promise<AppendResult[]> => {
    assertOpen();
    assertMultiAppendable(appends);
    const payload = appends.map((part) => ({
      streamName: part.streamName,
      expectedRevision: expectedCode(part.expectedRevision ?? 'any'),
      events: eventsPayload(part.events),
    }));
    const rows = await runAppend<{ append_index: number; next_expected_revision: string; last_position: string }>(
      { name: `${statementPrefix}append-many`, text: appendManySql, values: [JSON.stringify(payload)] },
      (hint) => {
        const part = appends[Number(hint)];
        if (!part) throw new Error(`append_to_streams: failing part not identified (hint ${String(hint)})`);
        return { streamName: part.streamName, expected: part.expectedRevision ?? 'any', events: part.events };
      },
    );
    const results: AppendResult[] = new Array(appends.length);
    for (const row of rows)
      results[row.append_index] = {
        nextExpectedRevision: Number(row.next_expected_revision),
        position: Number(row.last_position),
      };
    return results;
  };

  const filterValues = (filter: AllFilter | undefined): { shape: string; values: unknown[] } => {
    const values: unknown[] = [];
    let shape = '';
    if (filter?.categories) {
      values.push(filter.categories);
      shape += 'c';
    }
    if (filter?.eventTypes) {
      values.push(filter.eventTypes);
      shape += 't';
    }
    if (filter?.tenantId !== undefined) {
      values.push(filter.tenantId);
      shape += 'n';
    }
    return { shape, values };
  };

  /**
   * What a page is read as: `full` events (`readAll`, subscriptions), `LogEvent`s (`readLog`:
   * `LOG_COLUMNS`, and `recorded_ms` for `+t`, unparsed by the driver), or the same with the
   * data left as JSON text (`text`: `readLogText`, the log reader thread's).
   */
  type PageKind = 'full' | 'log' | 'log+t' | 'text' | 'text+t' | 'rows' | 'rows+t';
  type PageOf<K extends PageKind> = K extends 'full'
    ? RecordedEvent
    : K extends 'log' | 'log+t'
      ? LogEvent
      : K extends 'text' | 'text+t'
        ? LogText
        : LogRow;
  const pageSql = new Map<string, string>();
  /*
   * The page's horizon is normally its snapshot's oldest running transaction (one statement).
   * A transaction that writes anything anywhere on the cluster holds that back; when it has not
   * moved for `appenderHorizonAfterMs` while events wait above it, the page is read again with
   * the appending transactions' horizon (`event_delivery_horizon()`, then the page: two
   * statements, in that order — see migration 1700000000009), so subscribers wait only for
   * appends in flight, not for a long transaction that appends nothing.
   */
  const appenderHorizonAfterMs = options.appenderHorizonAfterMs ?? 50;
  let heldAt: { horizon: number; since: number } | undefined;
  const horizonSql = `SELECT ${quoteIdentifier(schema)}.event_delivery_horizon() AS horizon`;
  const readPageOf = async <K extends PageKind>(
    kind: K,
    after: number,
    maxCount: number,
    filter: AllFilter | undefined,
  ): Promise<Page<PageOf<K>>> => {
    const page = await readPageAt(kind, after, maxCount, filter, null);
    if (!page.heldBack || page.events.length >= maxCount) {
      heldAt = undefined;
      return page;
    }
    const now = Date.now();
    if (heldAt === undefined || heldAt.horizon !== page.horizon) heldAt = { horizon: page.horizon, since: now };
    if (now - heldAt.since < appenderHorizonAfterMs) return page;
    const result = await pool.query<{ horizon: string }>({ name: `${statementPrefix}horizon`, text: horizonSql });
    const horizon = Number(result.rows[0]!.horizon);
    return horizon > page.horizon ? readPageAt(kind, after, maxCount, filter, horizon) : page;
  };
  const readPage = (after: number, maxCount: number, filter: AllFilter | undefined): Promise<LogPage> =>
    readPageOf('full', after, maxCount, filter);
  const readPageAt = async <K extends PageKind>(
    kind: K,
    after: number,
    maxCount: number,
    filter: AllFilter | undefined,
    givenHorizon: number | null,
  ): Promise<Page<PageOf<K>>> => {
    const { shape, values } = filterValues(filter);
    const key = `${kind}:${givenHorizon === null ? shape : `${shape}:h`}`;
    let text = pageSql.get(key);
    if (!text) {
      text = pageQuery(
        schema,
        { categories: shape.includes('c'), eventTypes: shape.includes('t'), tenant: shape.includes('n') },
        givenHorizon !== null,
        kind === 'full' ? EVENT_COLUMNS : kind.endsWith('+t') ? `${LOG_COLUMNS}, ${LOG_TIME_COLUMN}` : LOG_COLUMNS,
        kind === 'full', // the lean pages are checked for order below instead of sorted again
      );
      pageSql.set(key, text);
    }
    const statement = {
      name: `${statementPrefix}page:${key}`,
      text,
      values: givenHorizon === null ? [after, maxCount, ...values] : [after, maxCount, ...values, givenHorizon],
    };
    let horizon: number;
    let head: number;
    const events: PageOf<K>[] = [];
    if (kind === 'full') {
      const rows = (await pool.query<PageRow>(statement)).rows;
      const first = rows[0]!;
      horizon = Number(first.horizon);
      head = first.head === null ? -1 : Number(first.head);
      if (first.position !== null) {
        await prepareRows(codec, names, rows);
        for (const row of rows) events.push(toEvent(row, codec, names) as PageOf<K>);
      }
    } else {
      // rowMode 'array' and no type parsing: the rows as PostgreSQL's text, decoded by toLogEvent
      const result = await pool.query({ ...statement, rowMode: 'array', types: UNPARSED });
      const rows = result.rows as unknown as LogRow[];
      if (!inPositionOrder(rows)) rows.sort((a, b) => Number(a[2]) - Number(b[2]));
      const first = rows[0]!;
      horizon = Number(first[0]);
      head = first[1] === null ? -1 : Number(first[1]);
      if (first[2] !== null) {
        await prepareLogRows(codec, names, rows);
        if (kind.startsWith('rows')) events.push(...(rows as PageOf<K>[]));
        else {
          const decode = kind.startsWith('text') ? toLogText : toLogEvent;
          for (const row of rows) events.push(decode(row, codec, names) as PageOf<K>);
        }
      }
    }
    const lastEvent = events[events.length - 1];
    const last = lastEvent === undefined ? after : Array.isArray(lastEvent) ? Number(lastEvent[2]) : lastEvent.position;
    const scannedTo = events.length >= maxCount ? last : Math.max(last, after, horizon - 1);
    return { events, scannedTo, heldBack: head > scannedTo, head, horizon };
  };

  const head = async (): Promise<number> => {
    const result = await pool.query<{ head: string | null }>(`SELECT max(position) AS head FROM ${table}`);
    const value = result.rows[0]?.head;
    return value === null || value === undefined ? -1 : Number(value);
  };

  /** `readAll` and `readLog`: a page, after waiting (briefly) for older transactions below the head at the call. */
  const readAllOf = async <K extends PageKind>(kind: K, readOptions: ReadAllOptions): Promise<PageOf<K>[]> => {
    assertOpen();
    const after = readOptions.after ?? -1;
    const maxCount = readOptions.maxCount ?? 1000;
    const deadline = Date.now() + readAllSettleMs;
    let page = await readPageOf(kind, after, maxCount, readOptions.filter);
    const target = page.head;
    // Events committed before this call may sit behind an older, still open transaction;
    // wait for it (briefly) rather than returning a log that misses a just-acknowledged append.
    while (page.events.length < maxCount && page.scannedTo < target && Date.now() < deadline) {
      await sleep(5);
      page = await readPageOf(kind, after, maxCount, readOptions.filter);
    }
    return page.events;
  };

  const source: LogSource = { readPage, head, changes, isTransient: (error) => !closed && isConnectionError(error) };

  const store: PostgresEventStore = {
    schema,
    listener,
    appendToStream,
    appendToStreams,

    async readStream(streamName, readOptions = {}) {
      assertOpen();
      const backwards = readOptions.direction === 'backwards';
      const from = readOptions.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
      const categoryId = await names.categoryId(streamName);
      if (categoryId === null) return []; // a category never used: no stream of it has events
      const result = await pool.query<EventRow>({
        name: `${statementPrefix}stream:${backwards ? 'b' : 'f'}`,
        text: streamRowsQuery(
          schema,
          '$1::text',
          '$4::smallint',
          '$2::bigint',
          '$3::bigint',
          backwards ? 'backwards' : 'forwards',
        ),
        values: [streamName, from, readOptions.maxCount ?? null, categoryId],
      });
      await prepareRows(codec, names, result.rows);
      return result.rows.map((row) => toEvent(row, codec, names));
    },

    async streamRevision(streamName) {
      assertOpen();
      const result = await pool.query<{ revision: string | null }>({
        name: `${statementPrefix}revision`,
        // A stream whose events are all archived keeps its revision (archived_streams).
        text: `SELECT coalesce(
                 ${lastRevisionQuery(schema, '$1::text', '$2::smallint')},
                 (SELECT revision FROM ${quoteIdentifier(schema)}.archived_streams WHERE stream_name = $1)) AS revision`,
        values: [streamName, await names.categoryId(streamName)],
      });
      const revision = result.rows[0]?.revision;
      return revision === null || revision === undefined ? 'no_stream' : Number(revision);
    },

    readAll(readOptions = {}) {
      return readAllOf('full', readOptions);
    },

    readLog(readOptions = {}) {
      return readAllOf(readOptions.recordedAt ? 'log+t' : 'log', readOptions);
    },

    readLogText(readOptions = {}) {
      return readAllOf(readOptions.recordedAt ? 'text+t' : 'text', readOptions);
    },

    readLogRows(readOptions = {}) {
      return readAllOf(readOptions.recordedAt ? 'rows+t' : 'rows', readOptions);
    },

    logText(row) {
      return toLogText(row, codec, names);
    },

    async *copyLogText(copyOptions) {
      assertOpen();
      const client = await pool.connect();
      let whole = false;
      try {
        // a caller that reads slowly holds the statement open: no statement timeout of the role's cuts it
        await client.query('BEGIN READ ONLY');
        await client.query('SET LOCAL statement_timeout = 0');
        yield* copyLogText(client, schema, codec, names, {
          after: copyOptions.after ?? -1,
          maxCount: copyOptions.maxCount ?? 1000,
          limit: copyOptions.limit,
          ...(copyOptions.filter ? { filter: copyOptions.filter } : {}),
          ...(copyOptions.recordedAt ? { recordedAt: true } : {}),
        });
        await client.query('COMMIT');
        whole = true;
      } finally {
        client.release(!whole); // a COPY left midway: its connection is closed, not pooled
      }
    },

    streamLog(streamOptions = {}) {
      assertOpen();
      return streamLogInThread(
        {
          connection: readerConnection,
          schema,
          readAllSettleMs,
          appenderHorizonAfterMs,
          poolSize: logReaderPoolSize,
          copyRows: logReaderCopyRows,
        },
        streamOptions,
      );
    },

    subscribeToAll(subscribeOptions) {
      assertOpen();
      void listener.start();
      const subscription = startCatchUpSubscription(
        source,
        subscribeOptions,
        { idlePollMs, heldBackPollMs, minReadIntervalMs },
        (s) => subscriptions.delete(s),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async ping() {
      assertOpen();
      await pool.query('SELECT 1');
    },

    async close() {
      if (closed) return;
      closed = true;
      codec.close();
      clearInterval(partitionCheck);
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await listener.stop();
      await announcing;
      if (ownsPool) await pool.end();
    },
  };
  return store;
}

import type { EventStore } from '@mm/event-store';
import {
  createReadModelProjection,
  migrateReadModels,
  type ProjectedEvent,
  readModelTables,
  toProjectedLogEvent,
} from '@mm/projections';
import type pg from 'pg';
import { ReplayInputError } from './errors.js';
import { describeBound, isWithin, type LogBound } from './log-bound.js';
import { logPages, MATCHMAKING_CATEGORIES, type ReplayProgress, scanLog } from './log-scan.js';
import { deferIndexes, loadStored, restoreIndexes, writeBatch } from './read-model-bulk.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { type BatchChanges, ReadModelFold } from './read-model-fold.js';
import { checkSchemaName, quoteIdent } from './schemas.js';

export interface RebuildReadModelsOptions {
  db: pg.Pool;
  store: EventStore;
  /** Schema to build into: created and migrated if missing; resumed from its checkpoint if it has one. */
  schema: string;
  /** Stop after this position or time (the read models as they were then). @defaultValue the end of the log */
  to?: LogBound;
  /** Events applied per transaction (with the checkpoint). @defaultValue {@link BULK_BATCH} (`bulk`), 2000 (`handlers`) */
  batchSize?: number;
  /**
   * `bulk` (default): each batch folded into rows in memory and written with COPY
   * (read-model-bulk.ts); `handlers`: the projector's handlers, statement by statement. Both
   * give the same rows (read-model-fold.int.spec.ts).
   */
  method?: 'bulk' | 'handlers';
  /** `bulk`: rows kept in memory between batches; beyond it the oldest are dropped and read back when reached. @defaultValue 500,000 */
  maxRowsInMemory?: number;
  /** `bulk`: after every page folded (events read this run); `handlers`: after every batch applied. */
  onProgress?: (progress: ReplayProgress) => void;
  /**
   * A true value stops the rebuild (resume later): `bulk` checks it after every page and commits
   * what it has folded so far as a last, shorter batch; `handlers` after every batch.
   */
  shouldStop?: () => boolean;
}

export interface RebuildResult {
  schema: string;
  /** Where the schema's checkpoint was before (-1: empty, built from the start). */
  resumedFrom: number;
  /** Its checkpoint now. */
  position: number;
  /** Events applied by this run. */
  events: number;
  ms: number;
  /** Stopped by `shouldStop` before the end. */
  interrupted: boolean;
  /**
   * `bulk`: where the time went, in ms from the call — until the first page of the log was in,
   * until the last page was folded, the write left after that (the last batch), and the deferred
   * indexes' builds (0 when none were deferred or the run was interrupted).
   */
  phases?: RebuildPhases;
}

export interface RebuildPhases {
  firstPageMs: number;
  foldMs: number;
  lastWriteMs: number;
  indexBuildMs: number;
}

/**
 * Replays the log into the read models of `schema` — the same migrations and the same handlers
 * as the live projector (packages/projections), batch and checkpoint in one transaction — while
 * the live projector keeps running on its own schema. Interrupted, it resumes from the
 * checkpoint kept in the target schema.
 */
export async function rebuildReadModels(options: RebuildReadModelsOptions): Promise<RebuildResult> {
  const { db, store, to } = options;
  const schema = checkSchemaName(options.schema);
  const started = performance.now();
  // Never build into a schema that holds something else (the event store, public, the API's tables).
  const { rows: found } = await db.query<{ tables: string; readModels: boolean }>(
    `SELECT count(*) AS tables, bool_or(table_name = 'projection_checkpoints') AS "readModels"
       FROM information_schema.tables WHERE table_schema = $1`,
    [schema],
  );
  if (Number(found[0]?.tables ?? 0) > 0 && !found[0]?.readModels)
    throw new ReplayInputError(
      `schema ${schema} holds other tables than read models`,
      'rebuild into a new schema name (--into)',
    );
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await migrateReadModels(db, schema);
  const resumedFrom = await readModelCheckpoint(db, schema);
  if (to && 'position' in to && resumedFrom > to.position)
    throw new ReplayInputError(
      `schema ${schema} already holds the log up to position ${resumedFrom}, past ${describeBound(to)}`,
      'rebuild into a fresh schema (--into <new name>) or drop this one',
    );
  if ((options.method ?? 'bulk') === 'bulk') {
    const run = await rebuildInBulk(db, store, schema, resumedFrom, options, started);
    return { schema, resumedFrom, ...run, ms: Math.round(performance.now() - started) };
  }
  await restoreIndexes(db, schema); // left deferred by an interrupted bulk rebuild
  const projection = createReadModelProjection(db, schema);
  let interrupted = false;
  let position = resumedFrom;
  let applied = 0;
  const batchSize = options.batchSize ?? 2000;
  try {
    const result = await scanLog(
      store,
      async (events) => {
        await projection.applyBatch(events);
        position = events[events.length - 1]!.position;
        applied += events.length;
        if (options.shouldStop?.()) {
          interrupted = true;
          throw STOP;
        }
      },
      {
        after: resumedFrom,
        pageSize: batchSize,
        ...(to ? { to } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    position = Math.max(position, result.lastPosition);
  } catch (error) {
    if (error !== STOP) throw error;
  }
  return { schema, resumedFrom, position, events: applied, ms: Math.round(performance.now() - started), interrupted };
}

const STOP = Symbol('stop');

/**
 * The bulk rebuild: the log read page by page ({@link logPages}: `streamLog` — PostgreSQL reads
 * and decodes the next pages in a worker thread — else `readLog` pages, the next one requested
 * before the current one is folded), each page folded into rows in memory ({@link ReadModelFold}: the handlers'
 * semantics); every `batchSize` events the batch's changed rows are cut and written with COPY,
 * with the checkpoint, in one transaction ({@link writeBatch}) while the next batch is read and
 * folded. An interrupt (`shouldStop`) or a failure leaves the schema at the last committed
 * batch: a later run resumes from its checkpoint. A rebuild into an empty schema defers its
 * secondary indexes to the end ({@link deferIndexes}).
 */
async function rebuildInBulk(
  db: pg.Pool,
  store: EventStore,
  schema: string,
  resumedFrom: number,
  options: RebuildReadModelsOptions,
  started: number,
): Promise<{ position: number; events: number; interrupted: boolean; phases: RebuildPhases }> {
  const phases: RebuildPhases = { firstPageMs: 0, foldMs: 0, lastWriteMs: 0, indexBuildMs: 0 };
  const since = (t: number) => Math.round(performance.now() - t);
  const stopped = () => {
    phases.foldMs ||= since(started);
    return { position, events: applied, interrupted: true, phases };
  };
  const batchSize = options.batchSize ?? BULK_BATCH;
  const pageSize = Math.min(batchSize, 2000);
  const to = options.to;
  let position = resumedFrom;
  let applied = 0;
  let stop = false;
  let failure: { error: unknown } | undefined;
  const failed = (): void => {
    if (failure) throw failure.error;
  };
  const targetEmpty = resumedFrom < 0 && (await isEmpty(db, schema));
  if (targetEmpty) await deferIndexes(db, schema);
  const fold = new ReadModelFold({
    targetEmpty,
    ...(options.maxRowsInMemory ? { maxRows: options.maxRowsInMemory } : {}),
  });
  let writing: Promise<void> = Promise.resolve();
  let writeInFlight = false;

  const write = (batch: number, changes: BatchChanges, last: number, count: number) => {
    writeInFlight = true;
    writing = (async () => {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await writeBatch(client, schema, changes, last);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
        writeInFlight = false;
      }
      fold.committed(batch);
      position = last;
      applied += count;
      if (options.shouldStop?.()) stop = true;
    })().catch((error: unknown) => {
      failure = { error };
    });
  };

  let batchCount = 0;
  let batchLast = resumedFrom;
  /**
   * Cuts the batch and hands it to the writer once the one before is committed; false: stop here.
   * `last`: nothing is folded after it (its COPY text is made as it is written).
   */
  const endBatch = async (last = false): Promise<boolean> => {
    const { batch, changes } = fold.cut({ last });
    await writing;
    failed();
    if (stop) return false;
    write(batch, changes, batchLast, batchCount);
    batchCount = 0;
    return true;
  };

  const withTimes = to !== undefined && 'time' in to;
  const pages = logPages(store, {
    after: resumedFrom,
    maxCount: pageSize,
    filter: MATCHMAKING_CATEGORIES,
    ...(withTimes ? { recordedAt: true } : {}),
  });
  let folded = 0;
  for await (const page of pages) {
    phases.firstPageMs ||= since(started);
    let take = page.length;
    if (to !== undefined) {
      take = 0;
      while (take < page.length && isWithin(page[take]!, to)) take++;
    }
    const projected: (ProjectedEvent | null)[] = [];
    for (let i = 0; i < take; i++) projected.push(toProjectedLogEvent(page[i]!));
    const lookups = fold.lookupsFor(projected);
    if (lookups) await loadStored(db, schema, lookups, fold);
    for (let i = 0; i < take; i++) {
      const event = projected[i];
      if (event) fold.apply(event);
      batchCount++;
      batchLast = page[i]!.position;
      if (batchCount >= batchSize && !(await endBatch())) return stopped();
    }
    folded += take;
    // The pages come in faster than the fold takes them, so this loop rarely waits on I/O: while a
    // batch is being written, give the event loop a turn per page, or the COPY's socket writes (and
    // so PostgreSQL) wait for the fold to run dry — batch writes took twice as long and the fold
    // then waited for them (rebuild ≈ 4 % faster with the turn, five alternating runs).
    if (writeInFlight) await new Promise<void>((resolve) => setImmediate(resolve));
    if (take > 0) options.onProgress?.({ events: folded, position: page[take - 1]!.position });
    if (options.shouldStop?.()) {
      // commit what is folded so far, then stop
      if (batchCount > 0) await endBatch(true);
      await writing;
      failed();
      return stopped();
    }
    if (take < page.length) break; // past `to`
  }
  phases.foldMs = since(started);
  if (batchCount > 0 && !(await endBatch(true))) return stopped();
  await writing;
  failed();
  phases.lastWriteMs = since(started) - phases.foldMs;
  if (stop) return stopped();
  const indexes = performance.now();
  await restoreIndexes(db, schema);
  phases.indexBuildMs = since(indexes);
  return { position, events: applied, interrupted: false, phases };
}

/**
 * Events per transaction of the bulk rebuild. A queue entry, match or challenge whose events fall
 * into two batches is written twice (COPY, then an UPDATE through a temporary table, which costs
 * PostgreSQL ≈ 4 × a COPY per row): on the 1M-event log of `pnpm bench:replay`, 100,000-event
 * batches updated 57,337 of 252,000 queue entries, 400,000-event batches 13,334, and rebuild
 * ≈ 5–8 % faster. Progress and interrupts do not wait for a batch (see
 * `onProgress`, `shouldStop`).
 */
export const BULK_BATCH = 400_000;

async function isEmpty(db: pg.Pool, schema: string): Promise<boolean> {
  const t = readModelTables(schema);
  const { rows } = await db.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${t.queueEntries}) OR EXISTS (SELECT 1 FROM ${t.matches})
         OR EXISTS (SELECT 1 FROM ${t.challenges}) AS any`,
  );
  return !rows[0]?.any;
}

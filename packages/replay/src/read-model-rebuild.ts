import type { EventStore, RecordedEvent } from '@mm/event-store';
import {
  createReadModelProjection,
  migrateReadModels,
  type ProjectedEvent,
  readModelTables,
  toProjectedEvent,
} from '@mm/projections';
import type pg from 'pg';
import { ReplayInputError } from './errors.js';
import { describeBound, isWithin, type LogBound } from './log-bound.js';
import { MATCHMAKING_CATEGORIES, type ReplayProgress, scanLog } from './log-scan.js';
import { applyChunk } from './read-model-bulk.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { checkSchemaName, quoteIdent } from './schemas.js';

export interface RebuildReadModelsOptions {
  db: pg.Pool;
  store: EventStore;
  /** Schema to build into: created and migrated if missing; resumed from its checkpoint if it has one. */
  schema: string;
  /** Stop after this position or time (the read models as they were then). @defaultValue the end of the log */
  to?: LogBound;
  /** Events applied per transaction (with the checkpoint). @defaultValue 20000 (`bulk`), 2000 (`handlers`) */
  batchSize?: number;
  /**
   * `bulk` (default): each batch folded into rows in memory and written with COPY
   * (read-model-bulk.ts); `handlers`: the projector's handlers, statement by statement. Both
   * give the same rows (read-model-fold.int.spec.ts).
   */
  method?: 'bulk' | 'handlers';
  onProgress?: (progress: ReplayProgress) => void;
  /** Checked between batches: a true value stops the rebuild after the batch in flight (resume later). */
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
    const run = await rebuildInBulk(db, store, schema, resumedFrom, options);
    return { schema, resumedFrom, ...run, ms: Math.round(performance.now() - started) };
  }
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
 * The bulk rebuild: the log read page by page (the next page requested while the current one
 * is parsed), gathered into batches of `batchSize` events, each batch folded and written with
 * COPY together with the checkpoint in one transaction ({@link applyChunk}) while the next
 * batch is read. An interrupt (`shouldStop`) or a failure leaves the schema at the last
 * committed batch: a later run resumes from its checkpoint.
 */
async function rebuildInBulk(
  db: pg.Pool,
  store: EventStore,
  schema: string,
  resumedFrom: number,
  options: RebuildReadModelsOptions,
): Promise<{ position: number; events: number; interrupted: boolean }> {
  const batchSize = options.batchSize ?? 20_000;
  const pageSize = Math.min(batchSize, 5000);
  const to = options.to;
  let position = resumedFrom;
  let applied = 0;
  let stop = false;
  let failure: { error: unknown } | undefined;
  const failed = (): void => {
    failed();
  };
  let empty = resumedFrom < 0 && (await isEmpty(db, schema));
  let writing: Promise<void> = Promise.resolve();

  const write = (events: ProjectedEvent[], last: number, count: number) => {
    const batchEmpty = empty;
    empty = false;
    writing = (async () => {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await applyChunk(client, schema, events, last, { empty: batchEmpty });
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
      position = last;
      applied += count;
      options.onProgress?.({ events: applied, position });
      if (options.shouldStop?.()) stop = true;
    })().catch((error: unknown) => {
      failure = { error };
    });
  };

  let after = resumedFrom;
  let batch: ProjectedEvent[] = [];
  let batchCount = 0;
  let batchLast = resumedFrom;
  let next: Promise<RecordedEvent[]> | undefined = store.readAll({
    after,
    maxCount: pageSize,
    filter: MATCHMAKING_CATEGORIES,
  });
  while (next) {
    const page = await next;
    next = undefined;
    let take = page.length;
    if (to !== undefined) {
      take = 0;
      while (take < page.length && isWithin(page[take]!, to)) take++;
    }
    const more = take === page.length && page.length > 0;
    if (more) {
      after = page[page.length - 1]!.position;
      next = store.readAll({ after, maxCount: pageSize, filter: MATCHMAKING_CATEGORIES });
      next.catch(() => undefined); // awaited in the next round, or dropped after a stop
    }
    for (let i = 0; i < take; i++) {
      const recorded = page[i]!;
      const projected = toProjectedEvent(recorded);
      if (projected) batch.push(projected);
      batchCount++;
      batchLast = recorded.position;
      if (batchCount < batchSize) continue;
      await writing;
      failed();
      if (stop) return { position, events: applied, interrupted: true };
      write(batch, batchLast, batchCount);
      batch = [];
      batchCount = 0;
    }
  }
  await writing;
  failed();
  if (stop) return { position, events: applied, interrupted: true };
  if (batchCount > 0) {
    write(batch, batchLast, batchCount);
    await writing;
    failed();
  }
  return { position, events: applied, interrupted: false };
}

async function isEmpty(db: pg.Pool, schema: string): Promise<boolean> {
  const t = readModelTables(schema);
  const { rows } = await db.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${t.queueEntries}) OR EXISTS (SELECT 1 FROM ${t.matches})
         OR EXISTS (SELECT 1 FROM ${t.challenges}) AS any`,
  );
  return !rows[0]?.any;
}

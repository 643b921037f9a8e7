import type { EventStore } from '@mm/event-store';
import { createReadModelProjection, migrateReadModels } from '@mm/projections';
import type pg from 'pg';
import { ReplayInputError } from './errors.js';
import { describeBound, type LogBound } from './log-bound.js';
import { type ReplayProgress, scanLog } from './log-scan.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { checkSchemaName, quoteIdent } from './schemas.js';

export interface RebuildReadModelsOptions {
  db: pg.Pool;
  store: EventStore;
  /** Schema to build into: created and migrated if missing; resumed from its checkpoint if it has one. */
  schema: string;
  /** Stop after this position or time (the read models as they were then). @defaultValue the end of the log */
  to?: LogBound;
  /** Events applied per transaction (with the checkpoint). @defaultValue 2000 */
  batchSize?: number;
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

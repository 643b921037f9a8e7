import type { EventStore } from '@mm/event-store';
import { deleteExpiredRows, READ_MODEL_TABLE_DECLARATIONS, readModelTables, retentionCutoff } from '@mm/projections';
import type pg from 'pg';
import { ReplayInputError } from './errors.js';
import type { ReplayProgress } from './log-scan.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { compareReadModelsOn, type ReadModelDiff } from './read-model-diff.js';
import { rebuildReadModels } from './read-model-rebuild.js';
import { checkSchemaName, quoteIdent, requireReadModelSchema } from './schemas.js';

export interface AuditReadModelsOptions {
  db: pg.Pool;
  store: EventStore;
  /** The live read-model schema (READ_MODEL_SCHEMA). */
  live: string;
  /** Scratch schema for the replay, dropped afterwards. @defaultValue `<live>_i6_<random>` */
  scratch?: string;
  /** Differing rows shown per table. @defaultValue 5 */
  limit?: number;
  /** How long to wait for the live tables' SHARE locks per attempt. @defaultValue 500 */
  lockTimeoutMs?: number;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReadModelAudit extends ReadModelDiff {
  /** Position both sides were compared at. */
  position: number;
  /** Events replayed into the scratch schema. */
  events: number;
  /** How long the live projector was held (ms): the comparison holds its writes, not its reads. */
  heldMs: number;
}

/**
 * Invariant I6 for the read models: replays the log into a scratch schema up to the live
 * checkpoint and compares it row by row with the live schema. For a comparison at one point of
 * the log the live tables are locked in SHARE mode while comparing (API reads go on; the
 * projector's next batch waits): the scratch schema is caught up to the checkpoint they hold
 * then, on another connection, and both are compared. The scratch schema is dropped.
 */
export async function auditReadModels(options: AuditReadModelsOptions): Promise<ReadModelAudit> {
  const { db, store } = options;
  const live = checkSchemaName(options.live);
  await requireReadModelSchema(db, live);
  const scratch = checkSchemaName(
    options.scratch ?? `${live.slice(0, 40)}_i6_${Math.random().toString(36).slice(2, 10)}`,
  );
  if (scratch === live) throw new ReplayInputError('the scratch schema cannot be the live one', 'leave --into out');
  await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(scratch)} CASCADE`);
  try {
    // Most of the log, outside any lock.
    const first = await rebuildReadModels({
      db,
      store,
      schema: scratch,
      to: { position: await readModelCheckpoint(db, live) },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    let events = first.events;
    const liveTables = [
      ...READ_MODEL_TABLE_DECLARATIONS.map((t) => `${quoteIdent(live)}.${quoteIdent(t.name)}`),
      readModelTables(live).checkpoints,
    ];
    for (let attempt = 1; attempt <= 50; attempt++) {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '${options.lockTimeoutMs ?? 500}ms'`);
        try {
          await client.query(`LOCK TABLE ${liveTables.join(', ')} IN SHARE MODE`);
        } catch (error) {
          if ((error as { code?: string }).code !== '55P03') throw error;
          await client.query('ROLLBACK');
          continue;
        }
        const held = performance.now();
        const position = await readModelCheckpoint(client, live);
        // The rest, committed on another connection (this one holds no transaction id, so event
        // delivery is not held back); READ COMMITTED: the comparison below sees it.
        const rest = await rebuildReadModels({ db, store, schema: scratch, to: { position } });
        events += rest.events;
        // Retention removed rows that ended before its cutoff from the live tables (and the
        // replay has them all): both sides are compared as of that cutoff. In a savepoint that
        // is rolled back, so the live rows a running retention has not reached yet stay.
        const cutoff = await retentionCutoff(client, live);
        if (cutoff) {
          await client.query('SAVEPOINT retention');
          await deleteExpiredRows(client, live, cutoff);
          await deleteExpiredRows(client, scratch, cutoff);
        }
        const diff = await compareReadModelsOn(
          client,
          live,
          scratch,
          options.limit === undefined ? {} : { limit: options.limit },
        );
        if (cutoff) await client.query('ROLLBACK TO SAVEPOINT retention');
        await client.query('COMMIT');
        return { ...diff, position, events, heldMs: Math.round(performance.now() - held) };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }
    throw new ReplayInputError(
      'could not lock the live read models for the comparison',
      'try again when the load is lower',
    );
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(scratch)} CASCADE`).catch(() => undefined);
  }
}

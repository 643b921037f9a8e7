import { isEventType, isStoredEventData, parseEvent } from '@mm/contracts';
import type { LogEvent, RecordedEvent } from '@mm/event-store';
import type pg from 'pg';
import type { BatchProjection } from '../runner/projection-runner.js';
import { applyToReadModels, type ProjectedEvent, readModelTables } from './read-model-handlers.js';
import { SqlBatch } from './sql-batch.js';

export const READ_MODELS_PROJECTION = 'read-models';

/**
 * Turns a stored event (as `readAll` or `readLog` returns it) into what projections apply; null
 * for event types this version does not know.
 */
export function toProjectedEvent(event: RecordedEvent | LogEvent): ProjectedEvent | null {
  if (!isEventType(event.type)) return null;
  const parsed = parseEvent(event.type, event.schemaVersion, event.data);
  const tenantId = 'metadata' in event ? event.metadata.tenantId : event.tenantId;
  return { ...parsed, tenantId, position: event.position } as ProjectedEvent;
}

/**
 * {@link toProjectedEvent} for a replay of the log (`readLog`): the data checked by the compiled
 * contract check (`isStoredEventData`) and kept as stored — unknown keys not stripped, keys in
 * their stored order — for code that reads fields by name (the rebuild's fold). A `LogEvent` of
 * the current version that passes is its own projected event (it has every field of one: no
 * copy); the rest goes through `parseEvent` (upcast, or its `EventContractError`).
 */
export function toProjectedLogEvent(event: LogEvent): ProjectedEvent | null {
  if (!isEventType(event.type)) return null;
  if (isStoredEventData(event.type, event.schemaVersion, event.data)) return event as unknown as ProjectedEvent;
  const parsed = parseEvent(event.type, event.schemaVersion, event.data);
  return { type: parsed.type, data: parsed.data, tenantId: event.tenantId, position: event.position } as ProjectedEvent;
}

/**
 * The Postgres read models (queue entries, matches, challenges). A batch and its
 * checkpoint commit in one transaction, so the tables always equal a prefix of the log;
 * the batch goes to the server in one round trip (see {@link SqlBatch}).
 */
export function createReadModelProjection(pool: pg.Pool, schema: string): BatchProjection {
  const tables = readModelTables(schema);
  return {
    name: READ_MODELS_PROJECTION,
    async loadCheckpoint() {
      const { rows } = await pool.query<{ position: string }>(
        `SELECT position FROM ${tables.checkpoints} WHERE name = $1`,
        [READ_MODELS_PROJECTION],
      );
      return rows[0] ? Number(rows[0].position) : undefined;
    },
    async applyBatch(events) {
      const batch = new SqlBatch();
      for (const event of events) {
        const projected = toProjectedEvent(event);
        if (projected) await applyToReadModels(batch, tables, projected);
      }
      await batch.query(
        `INSERT INTO ${tables.checkpoints} (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET position = GREATEST(${tables.checkpoints}.position, EXCLUDED.position),
           updated_at = now()`,
        [READ_MODELS_PROJECTION, events[events.length - 1]!.position],
      );
      await batch.run(pool);
    },
  };
}

/** Empties the read models and their checkpoint (one transaction); the projector then rebuilds them from the log. */
export async function resetReadModels(pool: pg.Pool, schema: string): Promise<void> {
  const t = readModelTables(schema);
  await pool.query(
    `BEGIN; TRUNCATE ${t.queueEntries}, ${t.matches}, ${t.challenges};
     DELETE FROM ${t.checkpoints} WHERE name = '${READ_MODELS_PROJECTION}'; COMMIT;`,
  );
}

import type { EventStore } from '@mm/event-store';
import { createReadModelProjection, READ_MODEL_TABLE_DECLARATIONS, readModelTables } from '@mm/projections';
import type pg from 'pg';
import { ReplayInputError } from './errors.js';
import type { ReplayProgress } from './log-scan.js';
import { scanLog } from './log-scan.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { rebuildReadModels } from './read-model-rebuild.js';
import { checkSchemaName, quoteIdent, requireReadModelSchema, schemaExists } from './schemas.js';

export interface SwapReadModelsOptions {
  db: pg.Pool;
  store: EventStore;
  /** The live schema (READ_MODEL_SCHEMA): its name stays, its content becomes the rebuilt one's. */
  live: string;
  /** The rebuilt schema, renamed to `live`. */
  rebuilt: string;
  /** How long one attempt waits for the live tables' locks. @defaultValue 200 */
  lockTimeoutMs?: number;
  /** Attempts before giving up (each waits `lockTimeoutMs`, then a short pause). @defaultValue 100 */
  attempts?: number;
  /** Most events the swap transaction catches up itself; more are applied before locking. @defaultValue 5000 */
  maxCatchUpInLock?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** Called with each attempt that could not get the locks in time. */
  onRetry?: (attempt: number) => void;
  now?: () => Date;
}

export interface SwapResult {
  /** What the old live schema is called now (kept for `mm diff`). */
  oldSchema: string;
  /** The checkpoint the rebuilt schema took over with (= the live one at the swap). */
  position: number;
  /** Events applied inside the swap transaction to catch up with the live projector. */
  caughtUpInLock: number;
  attempts: number;
  /** How long the live tables were locked (ms). */
  lockedMs: number;
}

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Makes a rebuilt schema the live read models, atomically, while the service runs:
 *
 * 1. the rebuilt schema is caught up with the log outside any lock;
 * 2. one transaction takes ACCESS EXCLUSIVE locks on the live read-model tables — the locks the
 *    projector's batch transaction (it writes them and its checkpoint) and every API read also
 *    take, so it waits for the batch in flight and holds the next one — with a short
 *    `lock_timeout`, retried, so a waiting swap never queues readers behind it for long;
 * 3. inside it: reads the live checkpoint, applies the events between the rebuilt checkpoint
 *    and it to the rebuilt schema, then renames live → `<live>_old_<time>` and rebuilt → live;
 * 4. commit. Statements waiting on the locks resolve the name again and go to the new tables;
 *    the projector's next batch starts from the checkpoint the rebuilt schema now holds.
 *
 * No reader sees a half-built schema: until the commit the live name is the old schema, after
 * it the caught-up rebuilt one. The old schema is kept for `mm diff`.
 */
export async function swapReadModels(options: SwapReadModelsOptions): Promise<SwapResult> {
  const { db, store } = options;
  const live = checkSchemaName(options.live);
  const rebuilt = checkSchemaName(options.rebuilt);
  if (live === rebuilt)
    throw new ReplayInputError('cannot swap a schema with itself', 'rebuild into another schema (--into)');
  await requireReadModelSchema(db, live);
  await requireReadModelSchema(db, rebuilt);
  const stamp = (options.now?.() ?? new Date()).toISOString().replace(/\D/g, '').slice(0, 14);
  const oldSchema = `${live.slice(0, 63 - 19)}_old_${stamp}`;
  if (await schemaExists(db, oldSchema))
    throw new ReplayInputError(`schema ${oldSchema} exists already`, 'wait a second and swap again');
  const maxInLock = options.maxCatchUpInLock ?? 5000;
  const lockTimeoutMs = options.lockTimeoutMs ?? 200;
  const attempts = options.attempts ?? 100;
  const liveTables = [
    ...READ_MODEL_TABLE_DECLARATIONS.map((t) => `${quoteIdent(live)}.${quoteIdent(t.name)}`),
    readModelTables(live).checkpoints,
  ];

  for (let attempt = 1; attempt <= attempts; attempt++) {
    // 1. outside the lock: as close to the head of the log as possible.
    await rebuildReadModels({
      db,
      store,
      schema: rebuilt,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const client = await db.connect();
    let locked = 0;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(lockTimeoutMs))}ms'`);
      try {
        await client.query(`LOCK TABLE ${liveTables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
      } catch (error) {
        if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
        await client.query('ROLLBACK');
        options.onRetry?.(attempt);
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
        continue;
      }
      locked = performance.now();
      const livePosition = await readModelCheckpoint(client, live);
      const rebuiltPosition = await readModelCheckpoint(client, rebuilt);
      let caughtUp = 0;
      if (rebuiltPosition < livePosition) {
        const projection = createReadModelProjection(client as unknown as pg.Pool, rebuilt);
        const tooMany = Symbol('too many');
        try {
          await scanLog(
            store,
            async (events) => {
              caughtUp += events.length;
              if (caughtUp > maxInLock) throw tooMany;
              await projection.applyBatch(events);
            },
            { after: rebuiltPosition, to: { position: livePosition } },
          );
        } catch (error) {
          if (error !== tooMany) throw error;
          await client.query('ROLLBACK');
          continue; // the live projector ran ahead meanwhile: catch up outside the lock again
        }
      }
      await client.query(`ALTER SCHEMA ${quoteIdent(live)} RENAME TO ${quoteIdent(oldSchema)}`);
      await client.query(`ALTER SCHEMA ${quoteIdent(rebuilt)} RENAME TO ${quoteIdent(live)}`);
      await client.query('COMMIT');
      return {
        oldSchema,
        position: Math.max(livePosition, rebuiltPosition),
        caughtUpInLock: caughtUp,
        attempts: attempt,
        lockedMs: Math.round(performance.now() - locked),
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  throw new ReplayInputError(
    `could not lock the live read models within ${attempts} attempts of ${lockTimeoutMs} ms`,
    'something holds them for long (see pg_locks); try again, or raise --lock-timeout',
  );
}

import type pg from 'pg';
import { readModelTables } from './read-model-handlers.js';

/*
 * Retention of the read models: queue entries, matches and challenges that ended more than
 * READ_MODEL_RETENTION_DAYS ago leave the hot tables (the log — and its archives — keep them).
 * Run by the leading projector on a timer, on a connection of its own, in small batches of
 * short transactions that skip rows someone holds (FOR UPDATE SKIP LOCKED): a batch never waits
 * for the projector, and the projector never waits for more than one batch's row locks — on
 * rows that ended days ago, which no event touches any more.
 */

/** Name of the read models' row in `read_model_retention`. */
export const READ_MODEL_RETENTION = 'read-models';

const q = (schema: string, name: string) => `"${schema.replaceAll('"', '""')}".${name}`;

/**
 * The rows that retention removes at `cutoff`, per table ($1 = cutoff): ended for good (a
 * matched entry once its game started; a match once it has a game or was aborted; a challenge
 * once it is no longer pending) and ended before the cutoff. The conditions match the partial
 * indexes of migration 1700000000002, so each batch reads the oldest rows from an index.
 */
export const expiredRows = (schema: string) => {
  const t = readModelTables(schema);
  return [
    {
      table: t.queueEntries,
      key: 'tenant_id, queue_entry_id',
      where: `(status IN ('CANCELLED', 'TIMED_OUT') OR (status = 'MATCHED' AND game_id IS NOT NULL)) AND ended_at < $1`,
      order: 'ended_at',
    },
    {
      table: t.matches,
      key: 'tenant_id, match_id',
      where: `status IN ('GAME_CREATED', 'ABORTED') AND finished_at < $1`,
      order: 'finished_at',
    },
    {
      table: t.challenges,
      key: 'tenant_id, challenge_id',
      where: `status <> 'PENDING' AND ended_at < $1`,
      order: 'ended_at',
    },
  ] as const;
};

export interface RetentionRun {
  cutoff: Date;
  deleted: { queueEntries: number; matches: number; challenges: number };
  batches: number;
}

export interface ApplyRetentionOptions {
  /** Rows that ended before this leave the hot tables. */
  cutoff: Date;
  /** Rows deleted per transaction. @defaultValue 1000 */
  batchSize?: number;
  /** Pause between batches (ms), so a long backlog does not hog the database. @defaultValue 0 */
  pauseMs?: number;
  /** Stops between batches when aborted (the next run continues). */
  signal?: AbortSignal;
}

/** The cutoff of the last retention run on `schema` (null: retention never ran there). */
export async function retentionCutoff(db: pg.Pool | pg.PoolClient, schema: string): Promise<Date | null> {
  const { rows } = await db.query<{ cutoff: Date }>(
    `SELECT cutoff FROM ${q(schema, 'read_model_retention')} WHERE name = $1`,
    [READ_MODEL_RETENTION],
  );
  return rows[0]?.cutoff ?? null;
}

/**
 * Records `cutoff` (never moving it back), then deletes the expired rows of every table in
 * batches of `batchSize`, each its own transaction. Safe to run while the projector runs and
 * from several processes at once (SKIP LOCKED: two runs never wait for each other).
 */
export async function applyRetention(
  db: pg.Pool,
  schema: string,
  options: ApplyRetentionOptions,
): Promise<RetentionRun> {
  const batchSize = options.batchSize ?? 1000;
  await db.query(
    `INSERT INTO ${q(schema, 'read_model_retention')} (name, cutoff) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET cutoff = GREATEST(${q(schema, 'read_model_retention')}.cutoff, EXCLUDED.cutoff),
       updated_at = now()`,
    [READ_MODEL_RETENTION, options.cutoff],
  );
  const counts = [0, 0, 0];
  let batches = 0;
  const specs = expiredRows(schema);
  for (const [i, spec] of specs.entries()) {
    const sql = `DELETE FROM ${spec.table} WHERE (${spec.key}) IN (
                   SELECT ${spec.key} FROM ${spec.table} WHERE ${spec.where}
                    ORDER BY ${spec.order} LIMIT $2 FOR UPDATE SKIP LOCKED)`;
    for (;;) {
      if (options.signal?.aborted) break;
      const result = await db.query(sql, [options.cutoff, batchSize]);
      batches++;
      counts[i]! += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < batchSize) break;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  }
  return {
    cutoff: options.cutoff,
    deleted: { queueEntries: counts[0]!, matches: counts[1]!, challenges: counts[2]! },
    batches,
  };
}

/**
 * Deletes every row `applyRetention` would at `cutoff`, in one statement per table, on the given
 * client (inside its transaction). For comparisons: the I6 audit applies the live schema's
 * cutoff to its replay (and to the live rows not yet deleted, in a savepoint it rolls back).
 */
export async function deleteExpiredRows(client: pg.PoolClient, schema: string, cutoff: Date): Promise<void> {
  for (const spec of expiredRows(schema)) await client.query(`DELETE FROM ${spec.table} WHERE ${spec.where}`, [cutoff]);
}

/**
 * VACUUM (SKIP_LOCKED) of the tables a run deleted from, so their space is reused at once and the
 * hot tables stay the same size on disk (autovacuum gets to them later, and on a busy server
 * much later). A plain VACUUM does not block reads or writes. Returns the tables vacuumed.
 */
export async function vacuumAfterRetention(db: pg.Pool, schema: string, run: RetentionRun): Promise<string[]> {
  const t = readModelTables(schema);
  const tables = [
    run.deleted.queueEntries > 0 ? t.queueEntries : null,
    run.deleted.matches > 0 ? t.matches : null,
    run.deleted.challenges > 0 ? t.challenges : null,
  ].filter((table): table is string => table !== null);
  for (const table of tables) await db.query(`VACUUM (SKIP_LOCKED) ${table}`);
  return tables;
}

export interface RetentionJob {
  /** Resolves when a run in progress has stopped. */
  stop(): Promise<void>;
}

/**
 * Runs `applyRetention` every `intervalMs` with cutoff = now − `retentionDays` (first run after
 * `firstDelayMs`), then vacuums the tables it deleted from. Errors are reported and the next run
 * tries again.
 */
export function startRetentionJob(options: {
  db: pg.Pool;
  schema: string;
  retentionDays: number;
  intervalMs: number;
  batchSize: number;
  firstDelayMs?: number;
  onRun?: (run: RetentionRun) => void;
  onError?: (error: unknown) => void;
}): RetentionJob {
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = (ms: number) => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      running = (async () => {
        try {
          const run = await applyRetention(options.db, options.schema, {
            cutoff: new Date(Date.now() - options.retentionDays * 86_400_000),
            batchSize: options.batchSize,
            signal: stopping.signal,
          });
          if (!stopping.signal.aborted) await vacuumAfterRetention(options.db, options.schema, run);
          options.onRun?.(run);
        } catch (error) {
          if (!stopping.signal.aborted) options.onError?.(error);
        }
      })().finally(() => {
        running = undefined;
        schedule(options.intervalMs);
      });
    }, ms);
    timer.unref();
  };
  schedule(options.firstDelayMs ?? Math.min(options.intervalMs, 10_000));
  return {
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

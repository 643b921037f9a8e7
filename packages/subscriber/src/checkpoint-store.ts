import type pg from 'pg';
import type { SourceEvent } from './source.js';

export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** An event parked after its handler kept failing (or its data did not match the contract). */
export interface DeadLetter {
  subscriber: string;
  position: number;
  eventId: string;
  type: string;
  stream: string;
  schemaVersion: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: Date;
  error: string;
  attempts: number;
  parkedAt: Date;
}

/**
 * The kit's two tables in the consumer's own database (schema of its choice):
 * `subscriber_checkpoints` (one row per subscriber name: the last position whose effects are
 * committed) and `subscriber_dead_letters` (parked events). Created at start, idempotently.
 */
export function checkpointStore(
  pool: pg.Pool,
  schema: string,
  name: string,
  options: { synchronousCommit?: boolean } = {},
) {
  const s = quoteIdentifier(schema);
  const checkpoints = `${s}.subscriber_checkpoints`;
  const deadLetters = `${s}.subscriber_dead_letters`;
  const processed = `${s}.subscriber_processed`;
  // BEGIN + the locking read in one round trip (a simple query may hold several statements).
  // Without a synchronous commit a PostgreSQL crash may lose the last few transactions: their
  // effects *and* their checkpoint together, and the feed delivers those events again.
  const beginSql = `BEGIN;${options.synchronousCommit ? '' : ' SET LOCAL synchronous_commit = off;'} SELECT position FROM ${checkpoints} WHERE name = ${literal(name)} FOR UPDATE`;

  return {
    async migrate(): Promise<void> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Two consumers starting at once must not race on CREATE.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mm-subscriber:${schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${checkpoints} (
          name text PRIMARY KEY,
          position bigint NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        )`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${deadLetters} (
          subscriber text NOT NULL,
          position bigint NOT NULL,
          event_id text NOT NULL,
          type text NOT NULL,
          stream text NOT NULL,
          schema_version integer NOT NULL,
          data jsonb NOT NULL,
          metadata jsonb NOT NULL,
          recorded_at timestamptz NOT NULL,
          error text NOT NULL,
          attempts integer NOT NULL,
          parked_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (subscriber, position)
        )`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${processed} (
          subscriber text NOT NULL,
          position bigint NOT NULL,
          event_id text NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (subscriber, position)
        )`);
        await client.query(
          `INSERT INTO ${checkpoints} (name, position) VALUES ($1, -1) ON CONFLICT (name) DO NOTHING`,
          [name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    async position(): Promise<number> {
      const result = await pool.query<{ position: string }>(`SELECT position FROM ${checkpoints} WHERE name = $1`, [
        name,
      ]);
      return result.rows[0] ? Number(result.rows[0].position) : -1;
    },

    /**
     * Opens the event's transaction on `client` and locks the checkpoint row: a second instance
     * of the same subscriber waits here, then sees the new checkpoint and skips the event.
     * Returns the committed checkpoint.
     */
    async begin(client: pg.PoolClient): Promise<number> {
      const results = (await client.query(beginSql)) as unknown as pg.QueryResult<{ position: string }>[];
      const row = results.at(-1)?.rows[0];
      if (!row) throw new Error(`subscriber "${name}": checkpoint row missing (was ${checkpoints} dropped?)`);
      return Number(row.position);
    },

    /**
     * For competing consumers (no single checkpoint): opens the event's transaction on `client`
     * and records the event as processed. Returns false when it already was (by this or another
     * instance; a concurrent claim of the same event waits on the row until the other
     * transaction ends, then sees it). The caller commits (effects and claim together) or rolls back.
     */
    async claim(client: pg.PoolClient, event: SourceEvent): Promise<boolean> {
      if (!Number.isSafeInteger(event.position)) throw new RangeError(`bad position ${event.position}`);
      const results = (await client.query(
        `BEGIN;${options.synchronousCommit ? '' : ' SET LOCAL synchronous_commit = off;'} INSERT INTO ${processed} (subscriber, position, event_id) VALUES (${literal(name)}, ${event.position}, ${literal(event.id)}) ON CONFLICT (subscriber, position) DO NOTHING`,
      )) as unknown as pg.QueryResult[];
      return results.at(-1)?.rowCount === 1;
    },

    /** Moves the checkpoint and commits, in one round trip. */
    async commit(client: pg.PoolClient, position: number): Promise<void> {
      if (!Number.isSafeInteger(position)) throw new RangeError(`bad position ${position}`);
      await client.query(
        `UPDATE ${checkpoints} SET position = ${position}, updated_at = now() WHERE name = ${literal(name)}; COMMIT`,
      );
    },

    /** Parks the event and moves the checkpoint past it, in one transaction (on a fresh one). */
    async park(client: pg.PoolClient, event: SourceEvent, error: string, attempts: number): Promise<void> {
      await client.query(
        `INSERT INTO ${deadLetters} (subscriber, position, event_id, type, stream, schema_version, data, metadata, recorded_at, error, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)
         ON CONFLICT (subscriber, position) DO UPDATE SET error = EXCLUDED.error, attempts = EXCLUDED.attempts, parked_at = now()`,
        [
          name,
          event.position,
          event.id,
          event.type,
          event.stream,
          event.schemaVersion,
          JSON.stringify(event.data ?? null),
          JSON.stringify(event.metadata ?? {}),
          event.recordedAt,
          error,
          attempts,
        ],
      );
    },

    async deadLetters(): Promise<DeadLetter[]> {
      const result = await pool.query(`SELECT * FROM ${deadLetters} WHERE subscriber = $1 ORDER BY position`, [name]);
      return result.rows.map((row) => ({
        subscriber: row.subscriber,
        position: Number(row.position),
        eventId: row.event_id,
        type: row.type,
        stream: row.stream,
        schemaVersion: row.schema_version,
        data: row.data,
        metadata: row.metadata,
        recordedAt: row.recorded_at,
        error: row.error,
        attempts: row.attempts,
        parkedAt: row.parked_at,
      }));
    },
  };
}

export type CheckpointStore = ReturnType<typeof checkpointStore>;

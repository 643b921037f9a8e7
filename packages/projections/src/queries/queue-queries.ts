import type pg from 'pg';
import { readModelTables } from '../postgres/read-model-handlers.js';
import { READ_MODELS_PROJECTION } from '../postgres/read-model-projection.js';

export interface QueueEntryRow {
  tenantId: string;
  queueEntryId: string;
  userId: string;
  poolKey: string;
  timeControl: string;
  mode: 'rated' | 'casual';
  rating: number;
  ratingSource: string;
  ratingRange: { min?: number; max?: number } | null;
  status: 'SEARCHING' | 'MATCHED' | 'CANCELLED' | 'TIMED_OUT';
  enqueuedAt: Date;
  endedAt: Date | null;
  matchId: string | null;
  opponentId: string | null;
  colour: 'white' | 'black' | null;
  gameId: string | null;
  heldByMatchId: string | null;
}

export interface MatchRow {
  matchId: string;
  source: 'queue' | 'challenge';
  poolKey: string;
  whiteUserId: string;
  blackUserId: string;
  status: 'CREATING_GAME' | 'GAME_CREATED' | 'ABORTED';
  gameId: string | null;
  decidedAt: Date;
}

export interface PoolSummaryRow {
  pool: string;
  searching: number;
  avgWaitSeconds: number;
  p95WaitSeconds: number;
  matchesLastMinute: number;
}

const entryColumns = `tenant_id AS "tenantId", queue_entry_id AS "queueEntryId", user_id AS "userId",
  pool_key AS "poolKey", time_control AS "timeControl", mode, rating, rating_source AS "ratingSource",
  rating_range AS "ratingRange", status, enqueued_at AS "enqueuedAt", ended_at AS "endedAt", match_id AS "matchId",
  opponent_id AS "opponentId", colour, game_id AS "gameId", held_by_match_id AS "heldByMatchId"`;

/** Reads of the Postgres read models for the API. Every query is tenant-scoped. */
export function createQueueQueries(pool: pg.Pool, schema: string) {
  const t = readModelTables(schema);
  return {
    /** Position of the last event the read models contain (-1 when empty). */
    async checkpoint(): Promise<number> {
      const { rows } = await pool.query<{ position: string }>(`SELECT position FROM ${t.checkpoints} WHERE name = $1`, [
        READ_MODELS_PROJECTION,
      ]);
      return rows[0] ? Number(rows[0].position) : -1;
    },

    async entry(tenantId: string, queueEntryId: string): Promise<QueueEntryRow | null> {
      const { rows } = await pool.query<QueueEntryRow>(
        `SELECT ${entryColumns} FROM ${t.queueEntries} WHERE tenant_id = $1 AND queue_entry_id = $2`,
        [tenantId, queueEntryId],
      );
      return rows[0] ?? null;
    },

    /** The user's most recent entry that is searching, or matched into a match still creating its game. */
    async latestEntryOf(tenantId: string, userId: string): Promise<QueueEntryRow | null> {
      const { rows } = await pool.query<QueueEntryRow>(
        `SELECT ${entryColumns} FROM ${t.queueEntries} WHERE tenant_id = $1 AND user_id = $2
         ORDER BY enqueued_at DESC LIMIT 1`,
        [tenantId, userId],
      );
      return rows[0] ?? null;
    },

    /** The user's newest match that is still creating its game, or whose game was created. */
    async latestMatchOf(tenantId: string, userId: string): Promise<MatchRow | null> {
      const { rows } = await pool.query<MatchRow>(
        `SELECT match_id AS "matchId", source, pool_key AS "poolKey", white_user_id AS "whiteUserId",
           black_user_id AS "blackUserId", status, game_id AS "gameId", decided_at AS "decidedAt"
         FROM ${t.matches}
         WHERE tenant_id = $1 AND (white_user_id = $2 OR black_user_id = $2) AND status <> 'ABORTED'
         ORDER BY decided_at DESC LIMIT 1`,
        [tenantId, userId],
      );
      return rows[0] ?? null;
    },

    async match(tenantId: string, matchId: string): Promise<MatchRow | null> {
      const { rows } = await pool.query<MatchRow>(
        `SELECT match_id AS "matchId", source, pool_key AS "poolKey", white_user_id AS "whiteUserId",
           black_user_id AS "blackUserId", status, game_id AS "gameId", decided_at AS "decidedAt"
         FROM ${t.matches} WHERE tenant_id = $1 AND match_id = $2`,
        [tenantId, matchId],
      );
      return rows[0] ?? null;
    },

    /**
     * Median wait of the pool's entries matched in the last 15 minutes — the basis of
     * "estimated wait"; null when nobody was matched recently.
     */
    async recentMedianWaitSeconds(tenantId: string, poolKey: string, now: Date): Promise<number | null> {
      const { rows } = await pool.query<{ median: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ended_at - enqueued_at)) AS median
         FROM ${t.queueEntries}
         WHERE tenant_id = $1 AND pool_key = $2 AND status = 'MATCHED' AND ended_at > $3::timestamptz - interval '15 minutes'`,
        [tenantId, poolKey, now.toISOString()],
      );
      const median = rows[0]?.median;
      return median === null || median === undefined ? null : Number(median);
    },

    /** Per pool of the tenant: searching count, avg and p95 wait of searching entries, matches in the last minute. */
    async summary(tenantId: string, now: Date): Promise<PoolSummaryRow[]> {
      const { rows } = await pool.query<{
        pool: string;
        searching: string;
        avg: number | null;
        p95: number | null;
        matches: string;
      }>(
        `WITH waiting AS (
           SELECT pool_key, EXTRACT(EPOCH FROM $2::timestamptz - enqueued_at) AS wait
           FROM ${t.queueEntries} WHERE tenant_id = $1 AND status = 'SEARCHING'
         ), w AS (
           SELECT pool_key, count(*) AS searching, avg(wait) AS avg,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY wait) AS p95
           FROM waiting GROUP BY pool_key
         ), m AS (
           SELECT pool_key, count(*) AS matches FROM ${t.matches}
           WHERE tenant_id = $1 AND decided_at > $2::timestamptz - interval '1 minute' GROUP BY pool_key
         )
         SELECT coalesce(w.pool_key, m.pool_key) AS pool, coalesce(w.searching, 0) AS searching,
           w.avg, w.p95, coalesce(m.matches, 0) AS matches
         FROM w FULL JOIN m ON m.pool_key = w.pool_key ORDER BY 1`,
        [tenantId, now.toISOString()],
      );
      return rows.map((r) => ({
        pool: r.pool,
        searching: Number(r.searching),
        avgWaitSeconds: Math.max(0, Number(r.avg ?? 0)),
        p95WaitSeconds: Math.max(0, Number(r.p95 ?? 0)),
        matchesLastMinute: Number(r.matches),
      }));
    },
  };
}

export type QueueQueries = ReturnType<typeof createQueueQueries>;

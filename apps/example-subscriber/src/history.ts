import type { Handlers } from '@mm/subscriber';
import type pg from 'pg';

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The consumer's own tables (its schema), created if missing. */
export async function migrateHistory(pool: pg.Pool, schema: string): Promise<void> {
  const s = q(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`player-history:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    // Matches seen (MatchCreated), so GameCreated — which only names the match — finds its players.
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.matches (
      tenant text NOT NULL,
      match_id text NOT NULL,
      white text NOT NULL,
      black text NOT NULL,
      rating_gap numeric NOT NULL,
      PRIMARY KEY (tenant, match_id)
    )`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.players (
      tenant text NOT NULL,
      user_id text NOT NULL,
      games integer NOT NULL DEFAULT 0,
      rating_gap_total numeric NOT NULL DEFAULT 0,
      queue_waits integer NOT NULL DEFAULT 0,
      queue_wait_ms_total bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (tenant, user_id)
    )`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.opponents (
      tenant text NOT NULL,
      user_id text NOT NULL,
      opponent_id text NOT NULL,
      games integer NOT NULL DEFAULT 0,
      PRIMARY KEY (tenant, user_id, opponent_id)
    )`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The projection: plain increments, not idempotent on purpose — the kit runs each handler in
 * the transaction that moves the checkpoint, so each event counts exactly once.
 * - MatchCreated: the match is remembered; a queue match adds each side's wait.
 * - GameCreated: a game played for both sides, their rating gap, each other as opponent.
 */
export function historyHandlers(schema: string): Handlers {
  const s = q(schema);
  return {
    async MatchCreated(event, { client }) {
      const match = event.data;
      await client.query(
        `INSERT INTO ${s}.matches (tenant, match_id, white, black, rating_gap) VALUES ($1, $2, $3, $4, $5)`,
        [event.tenantId, match.matchId, match.white.userId, match.black.userId, match.ratingGap],
      );
      if (match.source !== 'queue') return;
      for (const side of [match.white, match.black])
        await client.query(
          `INSERT INTO ${s}.players (tenant, user_id, queue_waits, queue_wait_ms_total) VALUES ($1, $2, 1, $3)
           ON CONFLICT (tenant, user_id) DO UPDATE SET queue_waits = players.queue_waits + 1,
             queue_wait_ms_total = players.queue_wait_ms_total + EXCLUDED.queue_wait_ms_total`,
          [event.tenantId, side.userId, side.waitMs],
        );
    },
    async GameCreated(event, { client }) {
      const found = await client.query<{ white: string; black: string; rating_gap: string }>(
        `SELECT white, black, rating_gap FROM ${s}.matches WHERE tenant = $1 AND match_id = $2`,
        [event.tenantId, event.data.matchId],
      );
      const match = found.rows[0];
      if (!match) return; // a match from before this consumer's first event (it started later)
      for (const [user, opponent] of [
        [match.white, match.black],
        [match.black, match.white],
      ] as const) {
        await client.query(
          `INSERT INTO ${s}.players (tenant, user_id, games, rating_gap_total) VALUES ($1, $2, 1, $3)
           ON CONFLICT (tenant, user_id) DO UPDATE SET games = players.games + 1,
             rating_gap_total = players.rating_gap_total + EXCLUDED.rating_gap_total`,
          [event.tenantId, user, match.rating_gap],
        );
        await client.query(
          `INSERT INTO ${s}.opponents (tenant, user_id, opponent_id, games) VALUES ($1, $2, $3, 1)
           ON CONFLICT (tenant, user_id, opponent_id) DO UPDATE SET games = opponents.games + 1`,
          [event.tenantId, user, opponent],
        );
      }
    },
  };
}

export interface PlayerHistory {
  tenant: string;
  user: string;
  games_played: number;
  opponents: { user: string; games: number }[];
  /** Mean |rating difference| over the games played; null before the first game. */
  average_rating_gap: number | null;
  queue_waits: { count: number; average_seconds: number | null };
}

/** One player's history, or null when no event mentioned them. */
export async function playerHistory(
  pool: pg.Pool,
  schema: string,
  tenant: string,
  user: string,
): Promise<PlayerHistory | null> {
  const s = q(schema);
  const [player, opponents] = await Promise.all([
    pool.query<{ games: number; rating_gap_total: string; queue_waits: number; queue_wait_ms_total: string }>(
      `SELECT games, rating_gap_total, queue_waits, queue_wait_ms_total FROM ${s}.players WHERE tenant = $1 AND user_id = $2`,
      [tenant, user],
    ),
    pool.query<{ opponent_id: string; games: number }>(
      `SELECT opponent_id, games FROM ${s}.opponents WHERE tenant = $1 AND user_id = $2 ORDER BY games DESC, opponent_id`,
      [tenant, user],
    ),
  ]);
  const row = player.rows[0];
  if (!row) return null;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    tenant,
    user,
    games_played: row.games,
    opponents: opponents.rows.map((o) => ({ user: o.opponent_id, games: o.games })),
    average_rating_gap: row.games > 0 ? round(Number(row.rating_gap_total) / row.games) : null,
    queue_waits: {
      count: row.queue_waits,
      average_seconds: row.queue_waits > 0 ? round(Number(row.queue_wait_ms_total) / row.queue_waits / 1000) : null,
    },
  };
}

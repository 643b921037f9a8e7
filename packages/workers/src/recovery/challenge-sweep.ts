import { readModelTables } from '@mm/projections';
import type pg from 'pg';
import type { Logger } from 'pino';

/** Candidates looked at per sweep (the next sweep takes the rest). */
const SWEEP_LIMIT = 200;

export interface OverdueChallenge {
  tenantId: string;
  challengeId: string;
}

/**
 * Pending challenges whose `expiresAt` passed more than `graceMs` ago, from the read models.
 * Each has an expiry job due at `expiresAt`, which normally appends `ChallengeExpired` within
 * milliseconds; one still pending after the grace has lost its job (a Redis that lost its keys,
 * a job dropped after failing) — the log says it is due, so it is re-derived from there.
 * The read models only *find* candidates: whoever acts re-reads the challenge stream.
 */
export async function overdueChallenges(
  db: pg.Pool,
  readModelSchema: string,
  now: Date,
  graceMs: number,
): Promise<OverdueChallenge[]> {
  const t = readModelTables(readModelSchema);
  const rows = await db.query<OverdueChallenge>(
    `SELECT tenant_id AS "tenantId", challenge_id AS "challengeId" FROM ${t.challenges}
      WHERE status = 'PENDING' AND expires_at < $1::timestamptz
      ORDER BY expires_at
      LIMIT ${SWEEP_LIMIT}`,
    [new Date(now.getTime() - graceMs).toISOString()],
  );
  return rows.rows;
}

/**
 * Brings every overdue pending challenge to rest with `drive` (the expiry job's own step:
 * `ChallengeExpired`, reservations released, idempotent). Failures are logged and counted; the
 * next sweep tries again.
 */
export async function expireOverdueChallenges(
  deps: { db: pg.Pool; readModelSchema: string; now: Date; graceMs: number; logger: Logger },
  drive: (challenge: OverdueChallenge) => Promise<{ outcome: string }>,
): Promise<{ expired: number; failed: number }> {
  const overdue = await overdueChallenges(deps.db, deps.readModelSchema, deps.now, deps.graceMs);
  const result = { expired: 0, failed: 0 };
  for (const challenge of overdue) {
    try {
      const { outcome } = await drive(challenge);
      result.expired++;
      deps.logger.info({ ...challenge, outcome }, 'expired a challenge whose expiry job was lost');
    } catch (error) {
      result.failed++;
      deps.logger.warn({ err: error, ...challenge }, 'could not expire an overdue challenge');
    }
  }
  return result;
}

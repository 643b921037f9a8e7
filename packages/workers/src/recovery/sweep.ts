import { readModelTables } from '@mm/projections';
import { enqueueGameCreation } from '@mm/redis';
import type pg from 'pg';
import type { WorkerContext } from '../context.js';
import { type ClaimRecovery, recoverClaim } from './recover-claim.js';

/** Candidates looked at per sweep (the next tick takes the rest). */
const SWEEP_LIMIT = 200;

export interface SweepResult {
  claims: Partial<Record<ClaimRecovery | 'error', number>>;
  /** Matches in CREATING_GAME whose game-creation job was (re-)enqueued. */
  redriven: number;
}

/**
 * The scheduler tick's repair work. The read models only *find* candidates (they lag the
 * log a little); every action re-reads the streams and is idempotent:
 * - queue entries claimed (`MATCHED`) for longer than CLAIM_RECOVERY_SECONDS whose match has
 *   no `MatchCreated` yet, or was aborted without the entry being released → {@link recoverClaim};
 * - matches in CREATING_GAME for longer than GAME_CREATION_REDRIVE_SECONDS → enqueue their
 *   game-creation job (a no-op while the job exists; covers a first attempt that died with its
 *   pairing process, a lost enqueue, a job dropped after it failed, and challenge matches, whose
 *   accept does not enqueue anything itself).
 */
export async function sweepStuckMatches(ctx: WorkerContext, db: pg.Pool): Promise<SweepResult> {
  const t = readModelTables(ctx.config.READ_MODEL_SCHEMA);
  const olderThan = new Date(ctx.now() - ctx.config.CLAIM_RECOVERY_SECONDS * 1000).toISOString();
  const result: SweepResult = { claims: {}, redriven: 0 };

  const claims = await db.query<{ tenant_id: string; user_id: string; match_id: string }>(
    `SELECT q.tenant_id, q.user_id, q.match_id
       FROM ${t.queueEntries} q
       LEFT JOIN ${t.matches} m ON m.tenant_id = q.tenant_id AND m.match_id = q.match_id
      WHERE q.status = 'MATCHED' AND q.game_id IS NULL AND q.match_id IS NOT NULL AND q.ended_at < $1::timestamptz
        AND (m.match_id IS NULL OR m.status = 'ABORTED')
      ORDER BY q.ended_at
      LIMIT ${SWEEP_LIMIT}`,
    [olderThan],
  );
  for (const row of claims.rows) {
    try {
      const outcome = await recoverClaim(ctx, { tenantId: row.tenant_id, userId: row.user_id, matchId: row.match_id });
      result.claims[outcome] = (result.claims[outcome] ?? 0) + 1;
      if (outcome !== 'not_claimed')
        ctx.logger.info({ tenantId: row.tenant_id, matchId: row.match_id, outcome }, 'recovered a stale claim');
    } catch (error) {
      result.claims.error = (result.claims.error ?? 0) + 1;
      ctx.logger.error({ err: error, matchId: row.match_id }, 'claim recovery failed');
    }
  }

  const redriveBefore = new Date(ctx.now() - ctx.config.GAME_CREATION_REDRIVE_SECONDS * 1000).toISOString();
  const creating = await db.query<{ tenant_id: string; match_id: string }>(
    `SELECT tenant_id, match_id FROM ${t.matches}
      WHERE status = 'CREATING_GAME' AND decided_at < $1::timestamptz
      ORDER BY decided_at
      LIMIT ${SWEEP_LIMIT * 5}`,
    [redriveBefore],
  );
  for (const row of creating.rows) {
    await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId: row.tenant_id, matchId: row.match_id });
    result.redriven++;
  }
  return result;
}

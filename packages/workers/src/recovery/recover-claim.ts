import { type MatchCreatedData, parseEvent, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import type { WorkerContext } from '../context.js';
import { enqueueGameCreation } from '../games/game-creation-queue.js';
import { createMatch, loadMatch, settlePlayers } from '../match/match-steps.js';
import { claimEntry } from '../pairing/claim-entry.js';
import { releaseClaim } from '../pairing/commit-pair.js';

export type ClaimRecovery = 'completed' | 'released' | 'settled' | 'game_pending' | 'not_claimed' | 'no_decision';

/** Whether the player's entry is claimed by the match, and the decision recorded on that claim. */
async function claimOf(
  ctx: WorkerContext,
  tenantId: string,
  userId: string,
  matchId: string,
): Promise<{ queueEntryId: string | null; decision: MatchCreatedData | null }> {
  const loaded = await loadState(ctx.store, playerStream(tenantId, userId), playerDecider);
  const entry = Object.values(loaded.state.entries).find((e) => e.matchId === matchId && e.status === 'matched');
  let decision: MatchCreatedData | null = null;
  for (const recorded of loaded.events) {
    if (recorded.type !== 'QueueEntryMatched') continue;
    const event = parseEvent(recorded.type, recorded.schemaVersion, recorded.data);
    if (event.type === 'QueueEntryMatched' && event.data.matchId === matchId && event.data.decision)
      decision = event.data.decision;
  }
  return { queueEntryId: entry?.queueEntryId ?? null, decision };
}

/**
 * Recovery of a queue claim whose worker may have died between the claims and
 * `MatchCreated`. Decides from the streams, never from the read model that found it:
 * - the match stream has an outcome → bring the players in line (release / record the game);
 * - `MatchCreated` without an outcome → make sure its game-creation job exists;
 * - no `MatchCreated`: claim the other side for this match too (no-op if it already is; it
 *   races a cancel on that stream like any claim). Both claimed → `MatchCreated` from the
 *   decision recorded on the claim, then game creation (the pair is completed). The other
 *   side cannot be claimed (cancelled, timed out, in another match) → release this claim.
 *
 * Racing the original pass is safe: a pass that is merely slow finds the other side already
 * claimed by the same match (a no-op) and writes the same `MatchCreated` (same event id); if
 * the other side could not be claimed here, its stream has moved past the revision the pass
 * pinned its claim to, so the pass cannot claim it either and never writes `MatchCreated`.
 */
export async function recoverClaim(
  ctx: WorkerContext,
  claim: { tenantId: string; userId: string; matchId: string },
): Promise<ClaimRecovery> {
  const { tenantId, matchId } = claim;
  const match = await loadMatch(ctx, matchId);
  if (match.status === 'aborted' || match.status === 'game_created') {
    await settlePlayers(ctx, tenantId, match);
    return 'settled';
  }
  if (match.status === 'created') {
    await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
    return 'game_pending';
  }

  const own = await claimOf(ctx, tenantId, claim.userId, matchId);
  if (own.queueEntryId === null) return 'not_claimed';
  const decision = own.decision;
  if (!decision) {
    // Nothing of ours writes a claim without its decision; leave it to an operator rather than guess.
    ctx.logger.error({ ...claim }, 'claim without a recorded decision; not recovered');
    return 'no_decision';
  }
  const mine = decision.white.userId === claim.userId ? decision.white : decision.black;
  const other = decision.white.userId === claim.userId ? decision.black : decision.white;
  const otherClaim = await claimEntry(ctx, {
    tenantId,
    userId: other.userId,
    queueEntryId: other.queueEntryId ?? '',
    decision,
    opponent: { userId: mine.userId, queueEntryId: mine.queueEntryId, rating: mine.rating },
    atRevision: null,
  });
  if (otherClaim.ok) {
    await createMatch(ctx, tenantId, decision);
    await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
    return 'completed';
  }
  await releaseClaim(ctx, tenantId, { userId: claim.userId, queueEntryId: own.queueEntryId }, matchId);
  return 'released';
}

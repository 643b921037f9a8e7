import { type MatchCreatedData, parseEvent, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import type { WorkerContext } from '../context.js';
import { enqueueGameCreation } from '../games/game-creation-queue.js';
import { createMatch, loadMatch, settlePlayers } from '../match/match-steps.js';
import { abandonMatch } from '../pairing/commit-pair.js';

export type ClaimRecovery = 'completed' | 'abandoned' | 'settled' | 'game_pending' | 'not_claimed' | 'no_decision';

/** The decision recorded on the player's claim of this match, if any. */
async function claimedDecision(
  ctx: WorkerContext,
  tenantId: string,
  userId: string,
  matchId: string,
): Promise<{ claimed: boolean; decision: MatchCreatedData | null; queueEntryId: string | null }> {
  const loaded = await loadState(ctx.store, playerStream(tenantId, userId), playerDecider);
  const entry = Object.values(loaded.state.entries).find((e) => e.matchId === matchId && e.status === 'matched');
  let decision: MatchCreatedData | null = null;
  for (const recorded of loaded.events) {
    if (recorded.type !== 'QueueEntryMatched') continue;
    const event = parseEvent(recorded.type, recorded.schemaVersion, recorded.data);
    if (event.type === 'QueueEntryMatched' && event.data.matchId === matchId && event.data.decision)
      decision = event.data.decision;
  }
  return { claimed: entry !== undefined, decision, queueEntryId: entry?.queueEntryId ?? null };
}

/**
 * Recovery of a queue claim whose worker may have died between the claims and
 * `MatchCreated`. Decides from the streams, never from the read model that found it:
 * - the match stream has an outcome → bring the players in line (release / record game);
 * - `MatchCreated` but no outcome → make sure its game-creation job exists;
 * - no `MatchCreated`: both entries claimed by this match → write `MatchCreated` from the
 *   decision recorded on the claim and enqueue game creation (the pair is completed);
 *   otherwise → fence the match stream (`MatchCreated` + `MatchAborted {player_unavailable}`)
 *   and release what was claimed.
 * Racing the original pass is safe: both write the same `MatchCreated` (same event id), and
 * a claim is only released after `MatchAborted`.
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

  const own = await claimedDecision(ctx, tenantId, claim.userId, matchId);
  if (!own.claimed) return 'not_claimed';
  const decision = own.decision;
  if (!decision) {
    // A claim without its decision cannot be fenced on the match stream; nothing of ours
    // writes such claims, so this is left to an operator rather than guessed at.
    ctx.logger.error({ ...claim }, 'claim without a recorded decision; not recovered');
    return 'no_decision';
  }
  const otherSide = decision.white.userId === claim.userId ? decision.black : decision.white;
  const other = await claimedDecision(ctx, tenantId, otherSide.userId, matchId);
  if (other.claimed) {
    const state = await createMatch(ctx, tenantId, decision);
    if (state.status === 'created') {
      await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
      return 'completed';
    }
    await settlePlayers(ctx, tenantId, state);
    return 'settled';
  }
  await abandonMatch(ctx, tenantId, decision);
  return 'abandoned';
}

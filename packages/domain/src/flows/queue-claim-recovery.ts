import { type MatchCreatedData, matchStream, parseEvent, playerStream } from '@mm/contracts';
import { loadState } from '../command-handling/load-state.js';
import { type MatchState, matchDecider } from '../match/match-decider.js';
import { playerDecider } from '../player/player-decider.js';
import type { MatchFlowContext } from './match-flow-context.js';
import { claimQueueEntry, createQueueMatch, releaseQueueClaim } from './queue-match-commit.js';

export type QueueClaimRecoveryOutcome =
  /** The match has its outcome (`GameCreated` or `MatchAborted`): the caller settles the players ({@link settleMatchPlayers}). */
  | { outcome: 'match_ended'; match: MatchState }
  /** `MatchCreated` without an outcome: the pair is complete, its game is (still) to be created. */
  | { outcome: 'game_pending'; matchId: string }
  /** The other side was claimed too (or already was) and `MatchCreated` is written: create the game. */
  | { outcome: 'completed'; matchId: string }
  /** The other side could not be claimed (`code`): this claim was released. */
  | { outcome: 'released'; matchId: string; code: string }
  /** The player's entry is not (or no longer) claimed by the match: nothing to do. */
  | { outcome: 'not_claimed' }
  /** The claim carries no decision to complete from (nothing of ours writes one): left to an operator. */
  | { outcome: 'no_decision' };

/** Whether the player's entry is claimed by the match, and the decision recorded on that claim. */
const claimOf = async (
  context: MatchFlowContext,
  userId: string,
  matchId: string,
): Promise<{ queueEntryId: string | null; decision: MatchCreatedData | null }> => {
  // every event: the decision is looked up on the claim event itself
  const loaded = await loadState(context.store, playerStream(context.metadata.tenantId, userId), playerDecider, {
    events: 'all',
  });
  const entry = Object.values(loaded.state.entries).find((e) => e.matchId === matchId && e.status === 'matched');
  let decision: MatchCreatedData | null = null;
  for (const recorded of loaded.events) {
    if (recorded.type !== 'QueueEntryMatched') continue;
    const event = parseEvent(recorded.type, recorded.schemaVersion, recorded.data);
    if (event.type === 'QueueEntryMatched' && event.data.matchId === matchId && event.data.decision)
      decision = event.data.decision;
  }
  return { queueEntryId: entry?.queueEntryId ?? null, decision };
};

/**
 * **Claim recovery** — completes or releases a queue claim whose commit may have stopped
 * between the claims and `MatchCreated` (a worker died). Streams: `match-<id>`, both players'.
 * Decides from the streams alone, from the decision recorded on the claim:
 * - the match stream has an outcome → `match_ended` (the caller brings the players in line);
 * - `MatchCreated` without an outcome → `game_pending`;
 * - no `MatchCreated`: claim the other side for this match too (nothing if it already is; it
 *   races a cancel on that stream like any claim). Both claimed → `MatchCreated` from the
 *   recorded decision (`completed`). The other side cannot be claimed (cancelled, timed out,
 *   in another match) → this claim is released (`released`).
 *
 * Racing the original commit is safe: a commit that is merely slow finds the other side
 * already claimed by the same match and writes the same `MatchCreated` (same event id); if the
 * other side could not be claimed here, its stream has moved past the revision the commit
 * pinned its claim to, so the commit cannot claim it either and never writes `MatchCreated`.
 * Running it again converges (every step is idempotent).
 */
export const recoverQueueClaim = async (
  context: MatchFlowContext,
  claim: { userId: string; matchId: string },
): Promise<QueueClaimRecoveryOutcome> => {
  const { matchId } = claim;
  const { state: match } = await loadState(context.store, matchStream(matchId), matchDecider);
  if (match.status === 'aborted' || match.status === 'game_created') return { outcome: 'match_ended', match };
  if (match.status === 'created') return { outcome: 'game_pending', matchId };

  const own = await claimOf(context, claim.userId, matchId);
  if (own.queueEntryId === null) return { outcome: 'not_claimed' };
  const decision = own.decision;
  if (!decision) return { outcome: 'no_decision' };
  const mine = decision.white.userId === claim.userId ? decision.white : decision.black;
  const other = decision.white.userId === claim.userId ? decision.black : decision.white;
  const otherClaim = await claimQueueEntry(context, {
    userId: other.userId,
    queueEntryId: other.queueEntryId ?? '',
    decision,
    opponent: { userId: mine.userId, queueEntryId: mine.queueEntryId, rating: mine.rating },
    atRevision: null,
  });
  if (otherClaim.ok) {
    await createQueueMatch(context, decision);
    return { outcome: 'completed', matchId };
  }
  await releaseQueueClaim(context, { userId: claim.userId, queueEntryId: own.queueEntryId, matchId });
  return { outcome: 'released', matchId, code: otherClaim.code };
};

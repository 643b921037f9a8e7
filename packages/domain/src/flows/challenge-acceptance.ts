import { challengeStream, matchStream, playerStream } from '@mm/contracts';
import type { EventMetadata, EventStore } from '@mm/event-store';
import {
  type ChallengeState,
  challengeDecider,
  challengeMatchCreated,
  challengeMatchId,
} from '../challenge/challenge-decider.js';
import { handleCommand } from '../command-handling/handle-command.js';
import { loadState } from '../command-handling/load-state.js';
import type { DomainError } from '../errors/domain-error.js';
import { matchDecider } from '../match/match-decider.js';
import { playerDecider } from '../player/player-decider.js';

export interface ChallengeFlowContext {
  store: EventStore;
  /** Stamped on every event the flow appends (its tenantId names the player streams). */
  metadata: EventMetadata;
  now: string;
  /** Current rating of a player for the challenge's pool (from the rating service). */
  ratingOf: (userId: string) => Promise<number>;
}

export type ChallengeFlowResult = { ok: true; matchId: string } | { ok: false; error: DomainError };

const fail = (error: DomainError): ChallengeFlowResult => ({ ok: false, error });

/**
 * Accepting a challenge spans four streams and no transaction, so it is ordered so that
 * every step is idempotent and the commit point is a single append with an expected
 * revision on the challenge stream:
 *
 * 1. challenge stream: dry-run `AcceptChallenge` (404 / 403 / 409 before touching anybody);
 * 2. challenger's player stream: `ClaimForChallenge` → `ChallengeMatchClaimed`
 *    (409 `CANNOT_ACCEPT_CHALLENGE` if already in a match, or if the challenge was
 *    withdrawn/replaced); a searching entry is held, not cancelled;
 * 3. acceptor's player stream: the same; on failure step 2 is compensated
 *    (`ChallengeMatchReleased`, a held entry searches again with its original time);
 * 4. challenge stream: `ChallengeAccepted` — THE COMMIT POINT. If the challenge changed
 *    meanwhile (cancelled, declined, expired), both claims are compensated;
 * 5. match stream: `MatchCreated` (match id = challenge id, colours from a hash of it);
 * 6. both player streams: `ConfirmChallengeMatch` → held entries `QueueCancelled
 *    {reason: 'challenge_accepted'}`, the challenger's `ChallengeSettled {accepted}`.
 *
 * Steps 5–6 are {@link completeAcceptedChallenge}; re-running the whole flow or just
 * that part after a crash converges (every decider no-ops on a repeat). A crash between
 * 2 and 4 leaves players reserved: {@link recoverChallengeMatch} (run by a sweeper for
 * old `ChallengeMatchClaimed` without `ChallengeAccepted`) completes or releases them.
 */
export const acceptChallenge = async (
  context: ChallengeFlowContext,
  input: { challengeId: string; acceptorId: string },
): Promise<ChallengeFlowResult> => {
  const { store, metadata, now } = context;
  const matchId = challengeMatchId(input.challengeId);
  const challengeStreamName = challengeStream(input.challengeId);
  const acceptCommand = {
    type: 'AcceptChallenge',
    challengeId: input.challengeId,
    userId: input.acceptorId,
    matchId,
    now,
  } as const;

  // 1. fail fast without touching any player
  const { state } = await loadState(store, challengeStreamName, challengeDecider);
  const dryRun = challengeDecider.decide(acceptCommand, state);
  if (!dryRun.ok) return fail(dryRun.error);
  // Already accepted for this match: only finish. Claiming again could reserve players for
  // a match that has since been aborted and released.
  if (dryRun.events.length === 0) return completeAcceptedChallenge(context, state);
  const challenge = state.challenge!;

  const claim = (userId: string, role: 'challenger' | 'opponent', opponentId: string) =>
    handleCommand({
      store,
      streamName: playerStream(metadata.tenantId, userId),
      decider: playerDecider,
      command: { type: 'ClaimForChallenge', userId, challengeId: input.challengeId, matchId, role, opponentId, now },
      metadata,
    });
  const release = (userId: string, reason: 'challenge_not_accepted' | 'opponent_unavailable') =>
    handleCommand({
      store,
      streamName: playerStream(metadata.tenantId, userId),
      decider: playerDecider,
      command: { type: 'ReleaseChallengeMatch', userId, challengeId: input.challengeId, matchId, reason, now },
      metadata,
    });

  // 2. + 3. reserve both players (challenger first: the side the acceptor cannot see)
  const challengerClaim = await claim(challenge.challengerId, 'challenger', challenge.opponentId);
  if (!challengerClaim.ok) {
    // The challenger's side may have moved because the challenge itself ended since step 1
    // (it expired, was cancelled or declined): that, not the challenger's state, is the answer.
    const again = await loadState(store, challengeStreamName, challengeDecider);
    const recheck = challengeDecider.decide(acceptCommand, again.state);
    return fail(recheck.ok ? challengerClaim.error : recheck.error);
  }
  const acceptorClaim = await claim(challenge.opponentId, 'opponent', challenge.challengerId);
  if (!acceptorClaim.ok) {
    await release(challenge.challengerId, 'opponent_unavailable');
    return fail(acceptorClaim.error);
  }

  // 4. commit
  const accepted = await handleCommand({
    store,
    streamName: challengeStreamName,
    decider: challengeDecider,
    command: acceptCommand,
    metadata,
  });
  if (!accepted.ok) {
    await release(challenge.challengerId, 'challenge_not_accepted');
    await release(challenge.opponentId, 'challenge_not_accepted');
    return fail(accepted.error);
  }

  // 5. + 6.
  return completeAcceptedChallenge(context, accepted.state);
};

/** Steps 5–6 of {@link acceptChallenge} for a challenge already accepted; idempotent. */
export const completeAcceptedChallenge = async (
  context: ChallengeFlowContext,
  state: ChallengeState,
): Promise<ChallengeFlowResult> => {
  const { store, metadata, now } = context;
  const challenge = state.challenge;
  if (state.status !== 'accepted' || !challenge || !state.matchId)
    return fail({ code: 'INVALID_CHALLENGE_STATE', message: `challenge is ${state.status}, not accepted` });
  const matchId = state.matchId;

  const [challengerRating, opponentRating] = await Promise.all([
    context.ratingOf(challenge.challengerId),
    context.ratingOf(challenge.opponentId),
  ]);
  const created = await handleCommand({
    store,
    streamName: matchStream(matchId),
    decider: matchDecider,
    command: {
      type: 'CreateMatch',
      match: challengeMatchCreated(challenge, {
        matchId,
        challengerRating,
        opponentRating,
        now: state.settledAt ?? now,
      }),
    },
    metadata,
  });
  if (!created.ok) return fail(created.error);

  for (const userId of [challenge.challengerId, challenge.opponentId]) {
    const confirmed = await handleCommand({
      store,
      streamName: playerStream(metadata.tenantId, userId),
      decider: playerDecider,
      command: { type: 'ConfirmChallengeMatch', userId, challengeId: challenge.challengeId, matchId, now },
      metadata,
    });
    if (!confirmed.ok) return fail(confirmed.error);
  }
  return { ok: true, matchId };
};

/**
 * Recovery for players left reserved by an interrupted accept: completes the flow if the
 * challenge was accepted, otherwise releases both players. Safe to run at any time.
 */
export const recoverChallengeMatch = async (
  context: ChallengeFlowContext,
  challengeId: string,
): Promise<{ ok: true; outcome: 'completed' | 'released' } | { ok: false; error: DomainError }> => {
  const { store, metadata, now } = context;
  const { state } = await loadState(store, challengeStream(challengeId), challengeDecider);
  if (state.status === 'accepted') {
    const completed = await completeAcceptedChallenge(context, state);
    return completed.ok ? { ok: true, outcome: 'completed' } : completed;
  }
  const challenge = state.challenge;
  if (!challenge)
    return { ok: false, error: { code: 'CHALLENGE_NOT_FOUND', message: `challenge ${challengeId} not found` } };
  const matchId = challengeMatchId(challengeId);
  for (const userId of [challenge.challengerId, challenge.opponentId]) {
    const released = await handleCommand({
      store,
      streamName: playerStream(metadata.tenantId, userId),
      decider: playerDecider,
      command: { type: 'ReleaseChallengeMatch', userId, challengeId, matchId, reason: 'challenge_not_accepted', now },
      metadata,
    });
    if (!released.ok) return released;
  }
  return { ok: true, outcome: 'released' };
};

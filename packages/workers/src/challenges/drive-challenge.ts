import { challengeStream, makePool } from '@mm/contracts';
import {
  type ChallengeFlowContext,
  challengeDecider,
  challengeMatchId,
  completeAcceptedChallenge,
  endChallenge,
  loadState,
  recoverChallengeMatch,
} from '@mm/domain';
import type { EventMetadata, EventStore } from '@mm/event-store';
import type { RatingProvider } from '@mm/integrations';

/** Asks the workers' game-creation path to create the game of a match (idempotent per match). */
export interface GameCreationRequester {
  request(tenantId: string, matchId: string): Promise<void>;
}

export interface DriveChallengeDeps {
  store: EventStore;
  ratings: RatingProvider;
  now: Date;
  /** Optional: asked to create the game once a crashed accept has been completed. */
  gameCreation?: GameCreationRequester;
}

/**
 * What driving a challenge did:
 * - `missing`: no such challenge in that tenant (its issue failed after the job was scheduled);
 * - `not_due`: still pending and not yet expired (the job ran early; run it again at `expiresAt`);
 * - `expired`: `ChallengeExpired` appended (or it already was) and any reservation released;
 * - `completed`: accepted — match and confirmations ensured;
 * - `settled`: declined or cancelled — any reservation left by a failed accept released.
 */
export type DriveOutcome =
  | { outcome: 'missing' }
  | { outcome: 'not_due'; expiresAt: string }
  | { outcome: 'expired' | 'completed' | 'settled' };

/**
 * Brings one challenge to rest. Run by the expiry job at `expiresAt` and by the sweep
 * for accepted challenges without a match. Every step is idempotent (the deciders no-op
 * on repeats), so a late, duplicated or retried job is harmless, and it never races an
 * accept in flight into a wrong result: the accept's commit is an append with an
 * expected revision on the challenge stream, and the decider rejects it once due.
 */
export async function driveChallenge(
  deps: DriveChallengeDeps,
  input: { tenantId: string; challengeId: string },
): Promise<DriveOutcome> {
  const { state, events } = await loadState(deps.store, challengeStream(input.challengeId), challengeDecider);
  const challenge = state.challenge;
  // Challenge streams are not named by tenant: the tenant is the one the issue was stamped with.
  if (!challenge || events[0]?.metadata.tenantId !== input.tenantId) return { outcome: 'missing' };

  const now = deps.now.toISOString();
  const metadata: EventMetadata = {
    tenantId: input.tenantId,
    correlationId: `challenge-${input.challengeId}`,
    causationId: events.at(-1)?.id ?? null,
    actor: { type: 'system', id: 'challenge-worker' },
  };
  const pool = makePool(challenge.timeControl, challenge.mode).key;
  const context: ChallengeFlowContext = {
    store: deps.store,
    metadata,
    now,
    ratingOf: async (userId) => (await deps.ratings.ratingFor({ tenantId: input.tenantId, userId, pool })).rating,
  };

  if (state.status === 'accepted') {
    const completed = await completeAcceptedChallenge(context, state);
    if (!completed.ok) throw new ChallengeDriveError(input.challengeId, completed.error.code, completed.error.message);
    await deps.gameCreation?.request(input.tenantId, completed.matchId);
    return { outcome: 'completed' };
  }

  let outcome: 'expired' | 'settled' = 'settled';
  if (state.status === 'pending') {
    if (deps.now.getTime() < Date.parse(challenge.expiresAt))
      return { outcome: 'not_due', expiresAt: challenge.expiresAt };
    const expired = await endChallenge(
      { store: deps.store, metadata, now },
      { type: 'ExpireChallenge', challengeId: input.challengeId, now },
    );
    if (!expired.ok) throw new ChallengeDriveError(input.challengeId, expired.error.code, expired.error.message);
    outcome = 'expired';
  } else if (state.status === 'expired') {
    outcome = 'expired';
  }

  // The challenge may have been accepted concurrently (an accept committed just before
  // the expiry); recoverChallengeMatch re-reads it and completes instead of releasing.
  const recovered = await recoverChallengeMatch(context, input.challengeId);
  if (!recovered.ok) throw new ChallengeDriveError(input.challengeId, recovered.error.code, recovered.error.message);
  if (recovered.outcome === 'completed') {
    await deps.gameCreation?.request(input.tenantId, challengeMatchId(input.challengeId));
    return { outcome: 'completed' };
  }
  return { outcome };
}

/** A challenge could not be brought to rest (the job is retried). */
export class ChallengeDriveError extends Error {
  readonly code = 'CHALLENGE_DRIVE_FAILED';
  constructor(
    readonly challengeId: string,
    readonly reason: string,
    message: string,
  ) {
    super(`challenge ${challengeId}: ${reason}: ${message}`);
    this.name = 'ChallengeDriveError';
  }
}

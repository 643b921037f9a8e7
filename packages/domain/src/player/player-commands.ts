import type { Colour, GameMode, MatchCreatedData, Pool, RatingRange, RatingSource } from '@mm/contracts';

/*
 * Commands of the player stream. Every command names the player (`userId`) and carries
 * `now` (ISO instant) — deciders never read the clock.
 */

export interface JoinQueue {
  type: 'JoinQueue';
  userId: string;
  queueEntryId: string;
  pool: Pool;
  rating: number;
  ratingSource: RatingSource;
  ratingRange: RatingRange | null;
  now: string;
}

export interface CancelQueueEntry {
  type: 'CancelQueueEntry';
  userId: string;
  queueEntryId: string;
  now: string;
  /** @defaultValue 'user'; `active_game` when a worker ends the entry of a player who is busy in a game. */
  reason?: 'user' | 'active_game';
}

export interface TimeOutQueueEntry {
  type: 'TimeOutQueueEntry';
  userId: string;
  queueEntryId: string;
  now: string;
  /** `MAX_QUEUE_TIME_SECONDS` × 1000. */
  maxQueueTimeMs: number;
}

export interface ClaimQueueEntry {
  type: 'ClaimQueueEntry';
  userId: string;
  queueEntryId: string;
  matchId: string;
  opponent: { userId: string; queueEntryId: string | null; rating: number };
  now: string;
  /** The pairing decision, recorded on the claim for crash recovery (see `QueueEntryMatched.decision`). */
  decision?: MatchCreatedData;
}

export interface ReleaseQueueEntry {
  type: 'ReleaseQueueEntry';
  userId: string;
  queueEntryId: string;
  matchId: string;
  reason: 'opponent_unavailable' | 'match_aborted';
  now: string;
}

export interface RecordGameStarted {
  type: 'RecordGameStarted';
  userId: string;
  /** The claimed queue entry; null for a challenge match. */
  queueEntryId: string | null;
  matchId: string;
  gameId: string;
  colour: Colour;
  now: string;
}

export interface SendChallenge {
  type: 'SendChallenge';
  userId: string;
  challengeId: string;
  opponentId: string;
  timeControl: string;
  mode: GameMode;
  expiresAt: string;
  /** Cap on pending outgoing challenges (a pending challenge to the same opponent is replaced, not counted). */
  maxPendingChallenges: number;
  now: string;
}

export interface SettleChallenge {
  type: 'SettleChallenge';
  userId: string;
  challengeId: string;
  outcome: 'accepted' | 'declined' | 'cancelled' | 'replaced' | 'expired';
  now: string;
}

export interface ClaimForChallenge {
  type: 'ClaimForChallenge';
  userId: string;
  challengeId: string;
  matchId: string;
  role: 'challenger' | 'opponent';
  opponentId: string;
  now: string;
}

export interface ConfirmChallengeMatch {
  type: 'ConfirmChallengeMatch';
  userId: string;
  challengeId: string;
  matchId: string;
  now: string;
}

export interface ReleaseChallengeMatch {
  type: 'ReleaseChallengeMatch';
  userId: string;
  challengeId: string;
  matchId: string;
  reason: 'challenge_not_accepted' | 'opponent_unavailable' | 'match_aborted';
  now: string;
}

export type PlayerCommand =
  | JoinQueue
  | CancelQueueEntry
  | TimeOutQueueEntry
  | ClaimQueueEntry
  | ReleaseQueueEntry
  | RecordGameStarted
  | SendChallenge
  | SettleChallenge
  | ClaimForChallenge
  | ConfirmChallengeMatch
  | ReleaseChallengeMatch;

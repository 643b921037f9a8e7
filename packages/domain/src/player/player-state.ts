import type { Colour, GameMode, Pool, RatingRange, RatingSource } from '@mm/contracts';

/** Domain status of a queue entry. `matched` = claimed by a match (game being created, or started). */
export type QueueEntryStatus = 'searching' | 'matched' | 'cancelled' | 'timed_out';

/**
 * Everything the player stream knows about one queue entry, so "status of entry X" can
 * be answered from the stream alone (read-model fallback).
 */
export interface QueueEntry {
  queueEntryId: string;
  pool: Pool;
  rating: number;
  ratingSource: RatingSource;
  ratingRange: RatingRange | null;
  /** Original enqueue time; a released entry keeps it (I5: back in the queue with the original time). */
  enqueuedAt: string;
  status: QueueEntryStatus;
  /** Match that currently holds (or finally took) the entry. */
  matchId: string | null;
  /** `challenge` when the entry is held by a challenge match while it is accepted. */
  matchSource: 'queue' | 'challenge' | null;
  gameId: string | null;
  colour: Colour | null;
  opponent: { userId: string; queueEntryId: string | null; rating: number } | null;
  /** When the entry ended for good: cancelled, timed out, or its game started. */
  endedAt: string | null;
  cancelReason: 'user' | 'challenge_accepted' | 'active_game' | null;
}

/** A match the player is in whose game has not started yet (at most one: I2). */
export interface LiveMatch {
  matchId: string;
  source: 'queue' | 'challenge';
  /** The claimed (queue) or held (challenge) queue entry, if any. */
  queueEntryId: string | null;
  challengeId: string | null;
  opponentId: string;
  since: string;
}

/** A challenge this player sent that is still pending as far as this stream knows. */
export interface OutgoingChallenge {
  challengeId: string;
  opponentId: string;
  timeControl: string;
  mode: GameMode;
  expiresAt: string;
}

export interface PlayerState {
  /** The searching or claimed entry; null when none. */
  activeEntryId: string | null;
  /** Every entry the player ever had, by id. */
  entries: Record<string, QueueEntry>;
  liveMatch: LiveMatch | null;
  outgoingChallenges: Record<string, OutgoingChallenge>;
  /** matchId → gameId of every match whose game started (makes RecordGameStarted idempotent). */
  startedGames: Record<string, string>;
}

export const initialPlayerState = (): PlayerState => ({
  activeEntryId: null,
  entries: {},
  liveMatch: null,
  outgoingChallenges: {},
  startedGames: {},
});

/** The active entry, if any. */
export const activeEntry = (state: PlayerState): QueueEntry | null =>
  state.activeEntryId === null ? null : (state.entries[state.activeEntryId] ?? null);

/** Outgoing challenges still pending at `now` (an unanswered challenge stops counting once it expires). */
export const pendingOutgoingChallenges = (state: PlayerState, now: string): OutgoingChallenge[] =>
  Object.values(state.outgoingChallenges).filter((c) => Date.parse(c.expiresAt) > Date.parse(now));

import { z } from 'zod';
import { GameMode, Pool } from '../pools/pool.js';
import { TimeControlText } from '../pools/time-control.js';
import { Colour, Id, Instant, Millis, Rating, RatingRange } from './common.js';
import { MatchCreatedData } from './match-events.js';

/*
 * Events of the player stream `player-<tenant>:<user>`. Every event repeats the
 * `userId` so a consumer of the published log never has to parse stream names; the
 * tenant is in the metadata.
 */

/** Where a queue entry's rating came from. */
export const RatingSource = z.enum(['rating-api', 'fallback', 'default']);
export type RatingSource = z.infer<typeof RatingSource>;

export const QueueJoinedData = z
  .object({
    userId: Id,
    queueEntryId: Id,
    pool: Pool,
    rating: Rating,
    ratingSource: RatingSource,
    ratingRange: RatingRange.nullable(),
    enqueuedAt: Instant,
  })
  .meta({ description: 'A new queue entry starts searching.' });

export const QueueCancelledData = z
  .object({
    userId: Id,
    queueEntryId: Id,
    /**
     * `user`: the player cancelled; `challenge_accepted`: the player's challenge match took the
     * entry's place; `active_game`: live-game-api refused a match because the player is already in
     * a game, so the entry is not put back into the queue (the player is told why instead).
     */
    reason: z.enum(['user', 'challenge_accepted', 'active_game']),
    cancelledAt: Instant,
  })
  .meta({ description: 'The entry stops searching for good.' });

export const QueueTimedOutData = z
  .object({
    userId: Id,
    queueEntryId: Id,
    /** How long the entry searched before it was timed out. */
    waitedMs: Millis,
    timedOutAt: Instant,
  })
  .meta({ description: 'The entry searched longer than the longest queue time (MAX_QUEUE_TIME_SECONDS).' });

/** The claim: the entry is taken by a match and can no longer be cancelled or matched again. */
export const QueueEntryMatchedData = z
  .object({
    userId: Id,
    queueEntryId: Id,
    matchId: Id,
    opponent: z.object({ userId: Id, queueEntryId: Id.nullable(), rating: Rating }),
    matchedAt: Instant,
    /**
     * The pairing decision this claim is for (the `MatchCreated` data the worker is about to
     * write), so a recovery sweep can finish or abort the match when the worker died between
     * the claims and `MatchCreated`. Optional: written only where the claims and `MatchCreated`
     * are separate appends (EventStoreDB); on PostgreSQL they commit in one transaction and the
     * decision lives once, in `MatchCreated` (the match it names). Absent on claims written
     * before it existed.
     */
    decision: MatchCreatedData.optional(),
  })
  .meta({ description: 'The claim: the entry belongs to that match (it cannot be cancelled or matched again).' });

/** The claim is undone: the entry searches again with its ORIGINAL `enqueuedAt` (from its `QueueJoined`). */
export const QueueEntryReleasedData = z
  .object({
    userId: Id,
    queueEntryId: Id,
    matchId: Id,
    /** `opponent_unavailable`: the other side's claim failed; `match_aborted`: the game could not be created. */
    reason: z.enum(['opponent_unavailable', 'match_aborted']),
    releasedAt: Instant,
  })
  .meta({ description: 'The claim is undone; the entry searches again with its ORIGINAL `enqueuedAt`.' });

/** The player's match got its game; ends the player's live match. `queueEntryId` is null for challenge matches. */
export const QueueEntryGameStartedData = z
  .object({
    userId: Id,
    queueEntryId: Id.nullable(),
    matchId: Id,
    gameId: Id,
    colour: Colour,
    startedAt: Instant,
  })
  .meta({
    description:
      "The player's match got its game; ends the player's live match (`queueEntryId` null for challenge matches).",
  });

/**
 * The player (as challenger) sent a challenge. Kept here so the cap on pending outgoing
 * challenges is checked on one stream with an expected revision.
 */
export const ChallengeSentData = z
  .object({
    userId: Id,
    challengeId: Id,
    opponentId: Id,
    timeControl: TimeControlText,
    mode: GameMode,
    expiresAt: Instant,
    sentAt: Instant,
  })
  .meta({ description: 'The player issued a challenge (counts against the outgoing cap while pending).' });

/** A sent challenge is no longer pending; frees a slot of the outgoing cap. */
export const ChallengeSettledData = z
  .object({
    userId: Id,
    challengeId: Id,
    outcome: z.enum(['accepted', 'declined', 'cancelled', 'replaced', 'expired']),
    settledAt: Instant,
  })
  .meta({ description: 'A sent challenge is no longer pending.' });

/**
 * The player is reserved for the match of an accepted challenge (as challenger or as
 * acceptor). A searching queue entry, if any, is held by this match (`heldQueueEntryId`):
 * it cannot be matched or cancelled until the match is confirmed (entry cancelled with
 * reason `challenge_accepted`) or released (entry searches again).
 */
export const ChallengeMatchClaimedData = z
  .object({
    userId: Id,
    challengeId: Id,
    matchId: Id,
    role: z.enum(['challenger', 'opponent']),
    opponentId: Id,
    heldQueueEntryId: Id.nullable(),
    claimedAt: Instant,
  })
  .meta({ description: "The player is reserved for an accepted challenge's match; a searching entry is held by it." });

/** The challenge match will not happen (a later step of accepting failed, or the match was aborted). */
export const ChallengeMatchReleasedData = z
  .object({
    userId: Id,
    challengeId: Id,
    matchId: Id,
    reason: z.enum(['challenge_not_accepted', 'opponent_unavailable', 'match_aborted']),
    releasedAt: Instant,
  })
  .meta({ description: 'The reservation is undone; a held entry searches again.' });

export type QueueJoinedData = z.infer<typeof QueueJoinedData>;
export type QueueCancelledData = z.infer<typeof QueueCancelledData>;
export type QueueTimedOutData = z.infer<typeof QueueTimedOutData>;
export type QueueEntryMatchedData = z.infer<typeof QueueEntryMatchedData>;
export type QueueEntryReleasedData = z.infer<typeof QueueEntryReleasedData>;
export type QueueEntryGameStartedData = z.infer<typeof QueueEntryGameStartedData>;
export type ChallengeSentData = z.infer<typeof ChallengeSentData>;
export type ChallengeSettledData = z.infer<typeof ChallengeSettledData>;
export type ChallengeMatchClaimedData = z.infer<typeof ChallengeMatchClaimedData>;
export type ChallengeMatchReleasedData = z.infer<typeof ChallengeMatchReleasedData>;

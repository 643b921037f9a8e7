import { z } from 'zod';
import { Pool } from '../pools/pool.js';
import { Id, Instant, Millis, Rating, RatingWindow } from './common.js';

/** One side of a match, as it was when the match was decided (for auditing I4). */
export const MatchSide = z.object({
  userId: Id,
  /** The queue entry that was claimed; null for challenge matches. */
  queueEntryId: Id.nullable(),
  rating: Rating,
  /** This player's acceptable opponent ratings at decision time; null for challenge matches. */
  window: RatingWindow.nullable(),
  /** Time searched before the decision (for challenges: from issue to accept). */
  waitMs: Millis,
});
export type MatchSide = z.infer<typeof MatchSide>;

export const MatchCreatedData = z
  .object({
    matchId: Id,
    source: z.enum(['queue', 'challenge']),
    /** Present for `source: 'challenge'`. */
    challengeId: Id.optional(),
    pool: Pool,
    white: MatchSide,
    black: MatchSide,
    /** |white.rating - black.rating| */
    ratingGap: z.number().nonnegative(),
    /** The pairing objective's weight of this pair; null for challenges. */
    weight: z.number().finite().nullable(),
    /** Version of the pairing algorithm that decided; null for challenges. */
    algorithmVersion: z.string().min(1).nullable(),
    /**
     * Why white is white, e.g. `challenger_choice`, `challenge_random`, `colour_balance`,
     * `random`. Free text so the pairing algorithm can explain itself.
     */
    colourReason: z.string().min(1),
    decidedAt: Instant,
    /** The pairing pass that decided this queue match (`PairingPassCompleted.passId` on its pool stream); absent for challenges and for matches made before passes were recorded. */
    passId: Id.optional(),
  })
  .refine((m) => m.white.userId !== m.black.userId, { message: 'a match needs two different users', path: ['black'] })
  .refine((m) => (m.source === 'challenge') === (m.challengeId !== undefined), {
    message: 'challengeId is required for challenge matches and only for them',
    path: ['challengeId'],
  })
  .meta({ description: 'Two players were paired, with everything needed to re-check the decision.' });

export const GameCreatedData = z
  .object({
    matchId: Id,
    gameId: Id,
    createdAt: Instant,
  })
  .meta({ description: 'live-game-api created the game.' });

export const MatchAbortedData = z
  .object({
    matchId: Id,
    /** `game_creation_failed`: live-game-api kept failing; `game_creation_rejected`: it refused; `player_unavailable`: a player could not be claimed. */
    reason: z.enum(['game_creation_failed', 'game_creation_rejected', 'player_unavailable']),
    /** Game-creation attempts made before giving up. */
    attempts: z.number().int().nonnegative(),
    detail: z.string().nullable(),
    abortedAt: Instant,
  })
  .meta({ description: 'The match will never get a game; its players are released.' });

export type MatchCreatedData = z.infer<typeof MatchCreatedData>;
export type GameCreatedData = z.infer<typeof GameCreatedData>;
export type MatchAbortedData = z.infer<typeof MatchAbortedData>;

import { z } from 'zod';
import { GameMode } from '../pools/pool.js';
import { TimeControlText } from '../pools/time-control.js';
import { Id, Instant } from './common.js';

export const ChallengeColour = z.enum(['white', 'black', 'random']);
export type ChallengeColour = z.infer<typeof ChallengeColour>;

/** Reasons an opponent may give for declining (the fixed set shown to the challenger). */
export const DeclineReason = z.enum(['generic', 'later', 'too_fast', 'too_slow', 'time_control', 'rated', 'casual']);
export type DeclineReason = z.infer<typeof DeclineReason>;

export const ChallengeIssuedData = z
  .object({
    challengeId: Id,
    challengerId: Id,
    opponentId: Id,
    timeControl: TimeControlText,
    mode: GameMode,
    /** The colour the CHALLENGER asked for. */
    colour: ChallengeColour,
    message: z.string().max(280).nullable(),
    issuedAt: Instant,
    expiresAt: Instant,
  })
  .refine((c) => c.challengerId !== c.opponentId, { message: 'cannot challenge yourself', path: ['opponentId'] });

export const ChallengeAcceptedData = z.object({
  challengeId: Id,
  matchId: Id,
  acceptedAt: Instant,
});

export const ChallengeDeclinedData = z.object({
  challengeId: Id,
  reason: DeclineReason,
  declinedAt: Instant,
});

export const ChallengeCancelledData = z.object({
  challengeId: Id,
  /** `challenger`: withdrawn by the challenger; `replaced`: the challenger sent a new challenge to the same opponent. */
  reason: z.enum(['challenger', 'replaced']),
  cancelledAt: Instant,
});

export const ChallengeExpiredData = z.object({
  challengeId: Id,
  expiredAt: Instant,
});

export type ChallengeIssuedData = z.infer<typeof ChallengeIssuedData>;
export type ChallengeAcceptedData = z.infer<typeof ChallengeAcceptedData>;
export type ChallengeDeclinedData = z.infer<typeof ChallengeDeclinedData>;
export type ChallengeCancelledData = z.infer<typeof ChallengeCancelledData>;
export type ChallengeExpiredData = z.infer<typeof ChallengeExpiredData>;

import { z } from 'zod';
import { GameMode } from '../pools/pool.js';
import { TimeControlText } from '../pools/time-control.js';
import { Id, Instant } from './common.js';

export const ChallengeColour = z.enum(['white', 'black', 'random']);
export type ChallengeColour = z.infer<typeof ChallengeColour>;

/** Reasons an opponent may give for declining (the fixed set shown to the challenger). */
export const DeclineReason = z.enum(['generic', 'later', 'too_fast', 'too_slow', 'time_control', 'rated', 'casual']);
export type DeclineReason = z.infer<typeof DeclineReason>;

const challengeIssuedFields = {
  challengeId: Id,
  challengerId: Id,
  opponentId: Id,
  timeControl: TimeControlText,
  mode: GameMode,
  message: z.string().max(280).nullable(),
  issuedAt: Instant,
  expiresAt: Instant,
};
const notYourself = (c: { challengerId: string; opponentId: string }) => c.challengerId !== c.opponentId;
const yourself = { message: 'cannot challenge yourself', path: ['opponentId'] };

/**
 * `ChallengeIssued` v2 (current). v1 called the challenger's wish `colour`, the same name
 * `QueueEntryGameStarted` uses for the colour a player actually plays; v2 names it
 * `challengerColour`. Upcast from v1 by {@link upcastChallengeIssuedV1}.
 */
export const ChallengeIssuedData = z
  .object({
    ...challengeIssuedFields,
    /** The colour the CHALLENGER asked for (`random`: decided when the challenge is accepted). */
    challengerColour: ChallengeColour,
  })
  .refine(notYourself, yourself)
  .meta({ description: 'A direct challenge is pending.' });

/** `ChallengeIssued` v1: still in the log; read through {@link upcastChallengeIssuedV1}. */
export const ChallengeIssuedDataV1 = z
  .object({
    ...challengeIssuedFields,
    /** The colour the CHALLENGER asked for. */
    colour: ChallengeColour,
  })
  .refine(notYourself, yourself)
  .meta({ description: "A direct challenge is pending (v1: the challenger's wish was called `colour`)." });

/** v1 → v2: `colour` is renamed `challengerColour`; nothing else changes. */
export const upcastChallengeIssuedV1 = ({ colour, ...rest }: ChallengeIssuedDataV1): ChallengeIssuedData => ({
  ...rest,
  challengerColour: colour,
});

export const ChallengeAcceptedData = z
  .object({
    challengeId: Id,
    matchId: Id,
    acceptedAt: Instant,
  })
  .meta({ description: 'The opponent accepted; the match `matchId` follows.' });

export const ChallengeDeclinedData = z
  .object({
    challengeId: Id,
    reason: DeclineReason,
    declinedAt: Instant,
  })
  .meta({ description: 'The opponent declined.' });

export const ChallengeCancelledData = z
  .object({
    challengeId: Id,
    /** `challenger`: withdrawn by the challenger; `replaced`: the challenger sent a new challenge to the same opponent. */
    reason: z.enum(['challenger', 'replaced']),
    cancelledAt: Instant,
  })
  .meta({ description: 'Withdrawn by the challenger, or replaced by a newer challenge to the same opponent.' });

export const ChallengeExpiredData = z
  .object({
    challengeId: Id,
    expiredAt: Instant,
  })
  .meta({ description: 'Nobody answered in time.' });

export type ChallengeIssuedData = z.infer<typeof ChallengeIssuedData>;
export type ChallengeIssuedDataV1 = z.infer<typeof ChallengeIssuedDataV1>;
export type ChallengeAcceptedData = z.infer<typeof ChallengeAcceptedData>;
export type ChallengeDeclinedData = z.infer<typeof ChallengeDeclinedData>;
export type ChallengeCancelledData = z.infer<typeof ChallengeCancelledData>;
export type ChallengeExpiredData = z.infer<typeof ChallengeExpiredData>;

import { z } from 'zod';
import { ChallengeColour, DeclineReason } from '../events/challenge-events.js';
import { GameMode } from '../pools/pool.js';
import { TimeControlText } from '../pools/time-control.js';

const Instant = z.iso.datetime({ offset: true });

/** `POST /v1/matchmaking/challenges` */
export const CreateChallengeRequest = z.strictObject({
  opponent_id: z.string().min(1).max(200),
  time_control: TimeControlText,
  mode: GameMode,
  color: ChallengeColour,
  message: z.string().max(280).optional(),
});
export type CreateChallengeRequest = z.infer<typeof CreateChallengeRequest>;

/** `POST /v1/matchmaking/challenges/{challenge_id}/decline` (body optional; reason defaults to `generic`). */
export const DeclineChallengeRequest = z.strictObject({ reason: DeclineReason.optional() });
export type DeclineChallengeRequest = z.infer<typeof DeclineChallengeRequest>;

export const ChallengeStatus = z.enum(['PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED', 'EXPIRED']);
export type ChallengeStatus = z.infer<typeof ChallengeStatus>;

export const ChallengeResponse = z.object({
  challenge_id: z.string(),
  status: ChallengeStatus,
  challenger_id: z.string(),
  opponent_id: z.string(),
  time_control: z.string(),
  mode: GameMode,
  color: ChallengeColour,
  message: z.string().nullable(),
  created_at: Instant,
  expires_at: Instant,
  match_id: z.string().nullable(),
  game_id: z.string().nullable(),
  decline_reason: DeclineReason.nullable(),
});
export type ChallengeResponse = z.infer<typeof ChallengeResponse>;

/** A page of a list; `next_cursor` is opaque and null on the last page. */
export const pageOf = <Item extends z.ZodType>(item: Item) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/** `GET /v1/matchmaking/challenges/incoming` */
export const ChallengeListResponse = pageOf(ChallengeResponse);
export type ChallengeListResponse = z.infer<typeof ChallengeListResponse>;

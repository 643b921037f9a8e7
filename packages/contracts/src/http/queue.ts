import { z } from 'zod';
import { GameMode } from '../pools/pool.js';
import { TimeControlText } from '../pools/time-control.js';

/*
 * HTTP bodies use snake_case (the HTTP contract is kept from the design this service replaces,
 * docs/architecture.md). Instants are ISO 8601 text.
 */

const Instant = z.iso.datetime({ offset: true });
const Seconds = z.number().nonnegative();

/** `rating_range` of a join request: optional absolute bounds on the opponent's rating. */
export const RatingRangeBody = z
  .strictObject({ min: z.number().int().optional(), max: z.number().int().optional() })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    message: 'min must be <= max',
    path: ['min'],
  });

/** `POST /v1/matchmaking/queue` */
export const JoinQueueRequest = z.strictObject({
  time_control: TimeControlText,
  mode: GameMode,
  rating_range: RatingRangeBody.optional(),
});
export type JoinQueueRequest = z.infer<typeof JoinQueueRequest>;

export const PoolBody = z.object({ key: z.string(), time_control: z.string(), mode: GameMode });
export type PoolBody = z.infer<typeof PoolBody>;

export const QueueEntryStatus = z.enum(['SEARCHING', 'MATCHED', 'CANCELLED', 'TIMED_OUT']);
export type QueueEntryStatus = z.infer<typeof QueueEntryStatus>;

/** `POST /v1/matchmaking/queue` (201), `GET|DELETE /v1/matchmaking/queue/{queue_entry_id}` (200). */
export const QueueEntryResponse = z.object({
  queue_entry_id: z.string(),
  status: QueueEntryStatus,
  pool: PoolBody,
  rating: z.number(),
  rating_range: z.object({ min: z.number().int().optional(), max: z.number().int().optional() }).nullable(),
  enqueued_at: Instant,
  time_in_queue_seconds: Seconds,
  /** Current acceptable opponent ratings while SEARCHING; null otherwise. */
  rating_window: z.object({ low: z.number(), high: z.number() }).nullable(),
  /** 1-based position by wait time in the pool while SEARCHING; null otherwise or unknown. */
  position_estimate: z.number().int().positive().nullable(),
  estimated_wait_seconds: Seconds.nullable(),
  match_id: z.string().nullable(),
  game_id: z.string().nullable(),
  colour: z.enum(['white', 'black']).nullable(),
  opponent_id: z.string().nullable(),
  /** When the entry stopped searching for good (cancelled, timed out, game started). */
  ended_at: Instant.nullable(),
});
export type QueueEntryResponse = z.infer<typeof QueueEntryResponse>;

/** `GET /v1/matchmaking/active` */
export const ActiveMatchmakingResponse = z.object({
  queue_entry: QueueEntryResponse.nullable(),
  match: z
    .object({
      match_id: z.string(),
      game_id: z.string().nullable(),
      colour: z.enum(['white', 'black']),
      opponent_id: z.string(),
      status: z.enum(['CREATING_GAME', 'GAME_CREATED']),
    })
    .nullable(),
});
export type ActiveMatchmakingResponse = z.infer<typeof ActiveMatchmakingResponse>;

/** `GET /internal/queues/summary` */
export const QueueSummaryResponse = z.object({
  generated_at: Instant,
  pools: z.array(
    z.object({
      pool: PoolBody,
      searching: z.number().int().nonnegative(),
      avg_wait_seconds: Seconds,
      p95_wait_seconds: Seconds,
      matches_last_minute: z.number().int().nonnegative(),
    }),
  ),
});
export type QueueSummaryResponse = z.infer<typeof QueueSummaryResponse>;

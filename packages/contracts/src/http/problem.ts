import { z } from 'zod';

/**
 * Error body, RFC 9457 (`application/problem+json`) plus our stable `code`. Extension members
 * are allowed (RFC 9457 §3.2); the ones the API sends are listed.
 */
export const Problem = z.looseObject({
  /** URI identifying the problem type (`about:blank` when only `code` matters). */
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  /** Stable machine-readable code, e.g. `ALREADY_IN_QUEUE`. */
  code: z.string(),
  request_id: z.string().optional(),
  /** Field-level validation errors (400). */
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** `ACTIVE_GAME_EXISTS`: the game the player is in. */
  game_id: z.string().optional(),
  /** `RATE_LIMITED`: the limit that refused the command. */
  limit_scope: z.enum(['user', 'tenant']).optional(),
  /** `RATE_LIMITED`: seconds until commands are let through again (also the `Retry-After` header). */
  retry_after_seconds: z.number().int().positive().optional(),
});
export type Problem = z.infer<typeof Problem>;

import { z } from 'zod';

/** Error body, RFC 9457 (`application/problem+json`) plus our stable `code`. */
export const Problem = z.object({
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
});
export type Problem = z.infer<typeof Problem>;

import type { z } from 'zod';
import { problems } from '../errors/problem.js';

/** Parses `value` with a zod schema or throws a 400 VALIDATION_FAILED problem listing every issue. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw problems.validation(
    result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
  );
}

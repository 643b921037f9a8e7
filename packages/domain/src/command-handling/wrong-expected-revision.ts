/**
 * Whether an append failed because the stream was not at the expected revision. By the port's
 * stable code (`WRONG_EXPECTED_REVISION`) rather than `instanceof`, so any adapter's conflict
 * counts and the domain needs only the port's types at runtime (no adapter, no database driver
 * gets loaded). The one check for the domain and the workers.
 */
export const isWrongExpectedRevision = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'WRONG_EXPECTED_REVISION';

import type { CurrentRevision, ExpectedRevision } from './types.js';

/** The stream was not at the revision the append expected. Stable code: `WRONG_EXPECTED_REVISION`. */
export class WrongExpectedRevisionError extends Error {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: CurrentRevision,
  ) {
    super(`stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export const isWrongExpectedRevision = (error: unknown): error is WrongExpectedRevisionError =>
  error instanceof WrongExpectedRevisionError ||
  (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'WRONG_EXPECTED_REVISION');

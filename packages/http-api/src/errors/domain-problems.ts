import { type DomainError, httpStatusOf } from '@mm/domain';
import { isWrongExpectedRevision } from '@mm/event-store';
import { ProblemError, problems } from './problem.js';

const titles: Partial<Record<string, string>> = {
  ALREADY_IN_QUEUE: 'Already in the queue',
  ACTIVE_GAME_EXISTS: 'An active game exists',
  QUEUE_ENTRY_NOT_FOUND: 'No such queue entry',
  CANNOT_CANCEL: 'The queue entry cannot be cancelled',
};

/** A domain error as an HTTP problem (status from the domain's table, code unchanged). */
export const domainProblem = (error: DomainError): ProblemError =>
  new ProblemError(
    httpStatusOf(error.code),
    error.code,
    titles[error.code] ?? error.code.replaceAll('_', ' ').toLowerCase(),
    error.message,
  );

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P03',
  '53300',
]);

/**
 * Infrastructure failures (event store, Redis or PostgreSQL unreachable, or a stream so
 * contended that retries ran out) become 503 MATCHMAKING_UNAVAILABLE: the command was
 * not applied and the client may retry. Anything else is rethrown as a bug (500).
 */
export function unavailableOrThrow(error: unknown): never {
  if (error instanceof ProblemError) throw error;
  const code = (error as { code?: unknown })?.code;
  const message = String((error as { message?: unknown })?.message ?? '');
  if (
    isWrongExpectedRevision(error) ||
    (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) ||
    /Connection terminated|timeout|connect|ECONNREFUSED|Connection is closed/i.test(message)
  ) {
    throw problems.unavailable('A backing service did not answer; nothing was changed. Retry shortly.');
  }
  throw error;
}

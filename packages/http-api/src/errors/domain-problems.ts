import { type DomainError, httpStatusOf } from '@mm/domain';
import { ProblemError } from './problem.js';

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

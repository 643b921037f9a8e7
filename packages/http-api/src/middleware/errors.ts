import type { NextFunction, Request, Response } from 'express';
import { isUnavailable } from '../errors/command-outcome.js';
import { ProblemError, problemBody, problems } from '../errors/problem.js';

/** Maps body-parser's errors (bad JSON, too large, wrong charset) to problems with stable codes. */
const fromBodyParser = (error: { type?: string; status?: number }, limit: string): ProblemError | undefined => {
  switch (error.type) {
    case 'entity.parse.failed':
      return problems.malformedJson();
    case 'entity.too.large':
      return problems.payloadTooLarge(limit);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return problems.unsupportedMediaType();
    case 'request.aborted':
      return new ProblemError(400, 'REQUEST_ABORTED', 'The request was aborted');
    default:
      return undefined;
  }
};

export function errorHandler(limit: string) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let problem =
      error instanceof ProblemError
        ? error
        : typeof error === 'object' && error !== null
          ? fromBodyParser(error as { type?: string }, limit)
          : undefined;
    if (!problem && isUnavailable(error)) {
      // A read or a step before any write (an idempotency key, a lookup) could not reach a
      // backing service: nothing was changed. Writes are answered by runConfirmed, never here.
      problem = problems.unavailable('A backing service did not answer; nothing was changed. Retry shortly.');
    }
    if (!problem) {
      req.log?.error({ err: error }, 'unhandled error');
      problem = problems.internal();
    } else if (problem.status >= 500) {
      req.log?.warn({ err: error, code: problem.code }, 'request failed');
    }
    if (res.headersSent) return;
    res
      .status(problem.status)
      .type('application/problem+json')
      .json(problemBody(problem, String(req.id ?? '')));
  };
}

export const notFoundHandler = (req: Request, _res: Response, next: NextFunction): void => {
  next(new ProblemError(404, 'NOT_FOUND', 'No such route', `${req.method} ${req.path} does not exist.`));
};

/** Commands with a body must send JSON (a form or text body is a client bug, not an empty command). */
export const requireJson = (req: Request, _res: Response, next: NextFunction): void => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  next(hasBody && !req.is('application/json') ? problems.unsupportedMediaType() : undefined);
};

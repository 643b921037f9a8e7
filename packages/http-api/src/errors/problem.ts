/**
 * An HTTP failure with a stable `code`, rendered as RFC 9457 `application/problem+json`.
 * Every failure the API returns goes through this class, so clients can switch on `code`.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  request_id?: string;
  [key: string]: unknown;
}

export const problemBody = (problem: ProblemError, requestId?: string): ProblemBody => ({
  type: `https://errors.matchmaking.dev/${problem.code.toLowerCase().replaceAll('_', '-')}`,
  title: problem.title,
  status: problem.status,
  ...(problem.detail ? { detail: problem.detail } : {}),
  code: problem.code,
  ...(requestId ? { request_id: requestId } : {}),
  ...problem.extra,
});

export const problems = {
  validation: (errors: { path: string; message: string }[]) =>
    new ProblemError(
      400,
      'VALIDATION_FAILED',
      'The request is not valid',
      errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      {
        errors,
      },
    ),
  malformedJson: () => new ProblemError(400, 'MALFORMED_JSON', 'The body is not valid JSON'),
  payloadTooLarge: (limit: string) =>
    new ProblemError(413, 'PAYLOAD_TOO_LARGE', 'The body is too large', `The limit is ${limit}.`),
  unsupportedMediaType: () => new ProblemError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'),
  notFound: (what = 'resource') => new ProblemError(404, 'NOT_FOUND', `No such ${what}`),
  methodNotAllowed: () => new ProblemError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed on this resource'),
  unauthorized: (code: string, detail: string) => new ProblemError(401, code, 'Authentication failed', detail),
  forbidden: (detail: string) => new ProblemError(403, 'FORBIDDEN', 'Not allowed', detail),
  unavailable: (detail: string) =>
    new ProblemError(503, 'MATCHMAKING_UNAVAILABLE', 'Matchmaking is temporarily unavailable', detail),
  internal: () => new ProblemError(500, 'INTERNAL_ERROR', 'Something went wrong on our side'),
};

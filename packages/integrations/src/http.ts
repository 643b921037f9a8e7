import { type Dispatcher, request } from 'undici';

/**
 * A failed call to a service we depend on. `retryable` says whether trying again may help;
 * `outcomeUnknown` whether the call may have taken effect all the same (a timeout, a
 * connection lost after the request went out, a 5xx) — for a call that creates something,
 * the caller must then find out before it acts as if nothing was created.
 */
export class UpstreamError extends Error {
  readonly code = 'UPSTREAM_ERROR';
  readonly outcomeUnknown: boolean;
  constructor(
    readonly service: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** @defaultValue `status` is unset or 5xx (see {@link isOutcomeUnknownStatus}) */
    outcomeUnknown?: boolean,
  ) {
    super(`${service}: ${message}`);
    this.name = 'UpstreamError';
    this.outcomeUnknown = outcomeUnknown ?? (status === undefined || isOutcomeUnknownStatus(status));
  }
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

/**
 * One HTTP call with a hard timeout. Network errors and timeouts become retryable
 * {@link UpstreamError}s; the caller decides what a status means.
 *
 * undici's `request` rather than `fetch`: the same connection pool and keep-alive handling
 * (it honours the server's `Keep-Alive: timeout` hint and closes idle sockets 1 s before it),
 * at about a fifth of the CPU per call — fetch builds WHATWG streams for every request, which
 * made it the largest item in the API's profile.
 */
export async function requestJson(
  service: string,
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<JsonResponse> {
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: {
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    status = response.statusCode;
    // The body is read under the same deadline: a server that stalls mid-body is a timeout too.
    text = await response.body.text();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    throw new UpstreamError(
      service,
      timedOut ? `no answer within ${init.timeoutMs} ms` : `unreachable (${(error as Error).message})`,
      true,
      undefined,
      // Only a refused connection proves the request never reached the service.
      !notSent(error),
    );
  }
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status, body };
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The connection was never made (refused, no such host): the request cannot have been processed. */
const notSent = (error: unknown): boolean => {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && NOT_SENT_CODES.has(e.code)) return true;
    e = e.cause as typeof e;
  }
  return false;
};

/** A 5xx may come after the work was done (the reply failed); 4xx (408/425/429 included) were refused. */
export const isOutcomeUnknownStatus = (status: number): boolean => status >= 500;

/** 408, 425, 429 and 5xx may succeed later; other 4xx will not. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500;

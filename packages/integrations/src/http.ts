import { type Dispatcher, request } from 'undici';

/** A failed call to a service we depend on. `retryable` says whether trying again may help. */
export class UpstreamError extends Error {
  readonly code = 'UPSTREAM_ERROR';
  constructor(
    readonly service: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(`${service}: ${message}`);
    this.name = 'UpstreamError';
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

/** 408, 425, 429 and 5xx may succeed later; other 4xx will not. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500;

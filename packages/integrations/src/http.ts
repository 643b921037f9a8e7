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
 */
export async function requestJson(
  service: string,
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<JsonResponse> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new UpstreamError(
      service,
      timedOut ? `no answer within ${init.timeoutMs} ms` : `unreachable (${(error as Error).message})`,
      true,
    );
  }
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, body };
}

/** 408, 425, 429 and 5xx may succeed later; other 4xx will not. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500;

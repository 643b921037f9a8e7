import http from 'node:http';
import https from 'node:https';

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

// One keep-alive agent per scheme for the whole process: calls to the same upstream reuse their
// sockets. node:http rather than the global `fetch`: fetch (undici behind the WHATWG Request,
// Headers, AbortSignal and body streams) cost several times the CPU per call, and these calls
// sit on the join path (active-game check, rating) and on every game creation.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

const parseBody = (text: string): unknown => {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * One HTTP call with a hard timeout. Network errors and timeouts become retryable
 * {@link UpstreamError}s; the caller decides what a status means. A timeout after the
 * status line arrived (while reading the body) keeps the status with an empty body.
 */
export function requestJson(
  service: string,
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<JsonResponse> {
  return attempt(service, url, init, Date.now() + init.timeoutMs, true);
}

function attempt(
  service: string,
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs: number },
  deadline: number,
  mayRetry: boolean,
): Promise<JsonResponse> {
  return new Promise<JsonResponse>((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (error) {
      reject(new UpstreamError(service, `unreachable (${(error as Error).message})`, true));
      return;
    }
    const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
      ...init.headers,
    };
    const transport = target.protocol === 'https:' ? https : http;
    const agent = agents[target.protocol as keyof typeof agents];
    let status: number | undefined;
    let chunks = '';
    let settled = false;
    const finish = (outcome: JsonResponse | UpstreamError | Promise<JsonResponse>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof UpstreamError) reject(outcome);
      else resolve(outcome);
    };
    const request = transport.request(target, { method: init.method ?? 'GET', headers, agent }, (response) => {
      status = response.statusCode ?? 0;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        chunks += chunk;
      });
      response.on('end', () => finish({ status: status!, body: parseBody(chunks) }));
      response.on('error', () => finish({ status: status!, body: null }));
    });
    const timer = setTimeout(
      () => {
        // Before the status line: a retryable failure; while reading the body: the status stands.
        if (status === undefined) finish(new UpstreamError(service, `no answer within ${init.timeoutMs} ms`, true));
        else finish({ status, body: null });
        request.destroy();
      },
      Math.max(0, deadline - Date.now()),
    );
    request.on('error', (error) => {
      // A kept-alive socket the server closed just as we reused it: once more on a fresh one
      // (both calls are safe to repeat: GETs, and game creation carries an idempotency key).
      if (
        status === undefined &&
        mayRetry &&
        request.reusedSocket &&
        (error as { code?: string }).code === 'ECONNRESET'
      )
        finish(attempt(service, url, init, deadline, false));
      else if (status === undefined) finish(new UpstreamError(service, `unreachable (${error.message})`, true));
      else finish({ status, body: null });
    });
    request.end(payload);
  });
}

/** 408, 425, 429 and 5xx may succeed later; other 4xx will not. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500;

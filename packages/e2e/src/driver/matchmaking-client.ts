import { type MintOptions, playerToken } from '@mm/testing';
import { type Dispatcher, request } from 'undici';

export interface HttpResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the API
  body: any;
  /** Round trip in ms. */
  ms: number;
}

/** The matchmaking API as players call it, with locally minted JWTs (one per tenant+user, cached). */
export class MatchmakingClient {
  private readonly tokens = new Map<string, string>();

  /** `mint`: signing options for a deployment with its own JWT settings (default: the test secret). */
  constructor(
    readonly baseUrl: string,
    private readonly mint: MintOptions = {},
  ) {}

  token(tenantId: string, userId: string): string {
    const k = `${tenantId}\u0000${userId}`;
    let token = this.tokens.get(k);
    if (!token) {
      token = playerToken(tenantId, userId, { expiresIn: '2h', ...this.mint });
      this.tokens.set(k, token);
    }
    return token;
  }

  async request(method: string, path: string, tenantId: string, userId: string, body?: unknown): Promise<HttpResult> {
    const started = performance.now();
    // undici's request, not fetch: the driver shares the machine with the stack it measures, and
    // fetch costs about five times the CPU per call.
    const response = await request(this.baseUrl + path, {
      method: method as Dispatcher.HttpMethod,
      headers: {
        authorization: `Bearer ${this.token(tenantId, userId)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: response.statusCode, body: parsed, ms: performance.now() - started };
  }

  join(tenantId: string, userId: string, timeControl: string, mode: 'rated' | 'casual'): Promise<HttpResult> {
    return this.request('POST', '/v1/matchmaking/queue', tenantId, userId, { time_control: timeControl, mode });
  }

  cancel(tenantId: string, userId: string, queueEntryId: string): Promise<HttpResult> {
    return this.request('DELETE', `/v1/matchmaking/queue/${encodeURIComponent(queueEntryId)}`, tenantId, userId);
  }

  entry(tenantId: string, userId: string, queueEntryId: string): Promise<HttpResult> {
    return this.request('GET', `/v1/matchmaking/queue/${encodeURIComponent(queueEntryId)}`, tenantId, userId);
  }
}

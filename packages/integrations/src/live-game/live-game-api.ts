import { isRetryableStatus, requestJson, UpstreamError } from '../http.js';

/** The body of `POST {LIVE_GAME_API_URL}/internal/games` (the seed's integration contract, snake_case). */
export interface CreateGameRequest {
  tenant_id: string;
  white_user_id: string;
  black_user_id: string;
  time_control: string;
  mode: 'rated' | 'casual';
  white_rating: number | null;
  black_rating: number | null;
  metadata: { match_id: string; source: 'queue' | 'challenge'; challenge_id?: string | null; [key: string]: unknown };
}

export interface LiveGameApi {
  /**
   * Creates the game. `idempotencyKey` (the match id) makes a retry after a lost reply
   * return the same game. Throws {@link UpstreamError} (`retryable` tells whether to retry).
   */
  createGame(request: CreateGameRequest, idempotencyKey: string): Promise<{ gameId: string }>;
  /**
   * The player's active game, if any: `GET {LIVE_GAME_API_URL}/internal/players/{user_id}/active-game?tenant_id=…`
   * → 200 `{game_id}` or 404. Throws {@link UpstreamError} when it cannot tell.
   */
  activeGame(tenantId: string, userId: string): Promise<{ gameId: string } | null>;
}

export interface LiveGameApiOptions {
  baseUrl: string;
  /** @defaultValue 5000 */
  timeoutMs?: number;
  /** Bearer token for internal calls, when live-game-api wants one. */
  token?: string;
}

const gameIdOf = (body: unknown): string | undefined => {
  const id = (body as { game_id?: unknown } | null)?.game_id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
};

export function createLiveGameApi(options: LiveGameApiOptions): LiveGameApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  return {
    async createGame(request, idempotencyKey) {
      const { status, body } = await requestJson('live-game-api', `${base}/internal/games`, {
        method: 'POST',
        body: request,
        headers: { ...auth, 'idempotency-key': idempotencyKey },
        timeoutMs,
      });
      const gameId = gameIdOf(body);
      // 409 with a game id = the game for this key already exists (a retry after a lost reply).
      if ((status === 200 || status === 201 || status === 409) && gameId) return { gameId };
      if (status === 200 || status === 201) {
        throw new UpstreamError('live-game-api', 'created a game but returned no game_id', true, status);
      }
      throw new UpstreamError(
        'live-game-api',
        `HTTP ${status}${typeof body === 'object' && body && 'detail' in body ? `: ${String((body as { detail: unknown }).detail)}` : ''}`,
        isRetryableStatus(status),
        status,
      );
    },
    async activeGame(tenantId, userId) {
      const url = `${base}/internal/players/${encodeURIComponent(userId)}/active-game?tenant_id=${encodeURIComponent(tenantId)}`;
      const { status, body } = await requestJson('live-game-api', url, { headers: auth, timeoutMs });
      if (status === 404) return null;
      const gameId = gameIdOf(body);
      if (status === 200 && gameId) return { gameId };
      if (status === 200) return null;
      throw new UpstreamError('live-game-api', `active-game check: HTTP ${status}`, isRetryableStatus(status), status);
    },
  };
}

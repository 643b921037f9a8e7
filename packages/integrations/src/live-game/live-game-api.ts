import { z } from 'zod';
import { isRetryableStatus, requestJson, UpstreamError } from '../http.js';

/**
 * The body of `POST {LIVE_GAME_API_URL}/internal/games` (live-game-api's integration contract,
 * snake_case). Declared once: this client sends it and live-game-sim validates it.
 */
export const CreateGameRequest = z.object({
  tenant_id: z.string().min(1),
  white_user_id: z.string().min(1),
  black_user_id: z.string().min(1),
  time_control: z.string().regex(/^\d{1,3}\+\d{1,3}$/),
  mode: z.enum(['rated', 'casual']),
  white_rating: z.number().nullable(),
  black_rating: z.number().nullable(),
  metadata: z.looseObject({
    match_id: z.string().min(1),
    source: z.enum(['queue', 'challenge']),
    challenge_id: z.string().nullable().optional(),
  }),
});
export type CreateGameRequest = z.infer<typeof CreateGameRequest>;

/** A game as live-game-api reports it. */
export interface LiveGame {
  gameId: string;
  /** `active`, `finished`, `cancelled`; `unknown` when the answer names none of them. */
  status: 'active' | 'finished' | 'cancelled' | 'unknown';
  /** `metadata.match_id` (or `match_id`) of the game, when it says. */
  matchId: string | null;
}

/** What a cancel call did: `finished` = the game was played, too late to call it off. */
export type CancelGameOutcome = 'cancelled' | 'not_found' | 'finished';

export interface LiveGameApi {
  /**
   * Creates the game. `idempotencyKey` (the match id) makes a retry after a lost reply
   * return the same game. Throws {@link UpstreamError} (`retryable` tells whether to retry,
   * `outcomeUnknown` whether the game may exist all the same).
   */
  createGame(request: CreateGameRequest, idempotencyKey: string): Promise<{ gameId: string }>;
  /**
   * The player's active game, if any: `GET {LIVE_GAME_API_URL}/internal/players/{user_id}/active-game?tenant_id=…`
   * → 200 `{game_id, match_id?}` or 404. Throws {@link UpstreamError} when it cannot tell.
   */
  activeGame(tenantId: string, userId: string): Promise<{ gameId: string; matchId?: string } | null>;
  /**
   * The game a create call with this Idempotency-Key made, whatever its status:
   * `GET /internal/games/by-key/{key}?tenant_id=…` → 200 game or 404 (`null`: no game was
   * made with the key). Throws {@link UpstreamError} when it cannot tell.
   */
  findGameByKey(tenantId: string, idempotencyKey: string): Promise<LiveGame | null>;
  /**
   * Calls a game off (idempotent): `POST /internal/games/{game_id}/cancel {reason}` → 200,
   * 404 (`not_found`) or 409 for a game already played (`finished`). Throws
   * {@link UpstreamError} when it did not happen.
   */
  cancelGame(gameId: string, reason: string): Promise<CancelGameOutcome>;
}

export interface LiveGameApiOptions {
  baseUrl: string;
  /** @defaultValue 5000 */
  timeoutMs?: number;
  /** Bearer token for internal calls, when live-game-api wants one. */
  token?: string;
}

const text = (body: unknown, field: string): string | undefined => {
  const value = (body as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

const gameIdOf = (body: unknown): string | undefined => text(body, 'game_id');

const matchIdOf = (body: unknown): string | undefined =>
  text(body, 'match_id') ?? text((body as { metadata?: unknown } | null)?.metadata ?? null, 'match_id');

const STATUSES = new Set<LiveGame['status']>(['active', 'finished', 'cancelled']);

const liveGameOf = (gameId: string, body: unknown): LiveGame => {
  const status = text(body, 'status') as LiveGame['status'] | undefined;
  return { gameId, status: status && STATUSES.has(status) ? status : 'unknown', matchId: matchIdOf(body) ?? null };
};

const failure = (what: string, status: number, body: unknown) =>
  new UpstreamError(
    'live-game-api',
    `${what}HTTP ${status}${text(body, 'detail') ? `: ${text(body, 'detail')}` : ''}`,
    isRetryableStatus(status),
    status,
  );

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
      // 200 (replay) or 409 with a game id = the game for this key already exists (a retry after a lost reply).
      if ((status === 200 || status === 201 || status === 409) && gameId) return { gameId };
      if (status === 200 || status === 201) {
        throw new UpstreamError('live-game-api', 'created a game but returned no game_id', true, status, true);
      }
      throw failure('', status, body);
    },
    async activeGame(tenantId, userId) {
      const url = `${base}/internal/players/${encodeURIComponent(userId)}/active-game?tenant_id=${encodeURIComponent(tenantId)}`;
      const { status, body } = await requestJson('live-game-api', url, { headers: auth, timeoutMs });
      if (status === 404) return null;
      const gameId = gameIdOf(body);
      const matchId = matchIdOf(body);
      if (status === 200 && gameId) return matchId ? { gameId, matchId } : { gameId };
      if (status === 200) return null;
      throw new UpstreamError('live-game-api', `active-game check: HTTP ${status}`, isRetryableStatus(status), status);
    },
    async findGameByKey(tenantId, idempotencyKey) {
      const url = `${base}/internal/games/by-key/${encodeURIComponent(idempotencyKey)}?tenant_id=${encodeURIComponent(tenantId)}`;
      const { status, body } = await requestJson('live-game-api', url, { headers: auth, timeoutMs });
      if (status === 404) return null;
      const gameId = gameIdOf(body);
      if (status === 200 && gameId) return liveGameOf(gameId, body);
      if (status === 200)
        throw new UpstreamError('live-game-api', 'game lookup: no game_id in the answer', true, status);
      throw failure('game lookup: ', status, body);
    },
    async cancelGame(gameId, reason) {
      const url = `${base}/internal/games/${encodeURIComponent(gameId)}/cancel`;
      const { status, body } = await requestJson('live-game-api', url, {
        method: 'POST',
        body: { reason },
        headers: auth,
        timeoutMs,
      });
      if (status === 200 || status === 204) return 'cancelled';
      if (status === 404) return 'not_found';
      if (status === 409 && (text(body, 'status') === 'finished' || text(body, 'code') === 'GAME_FINISHED'))
        return 'finished';
      throw failure('cancel: ', status, body);
    },
  };
}

import { randomUUID } from 'node:crypto';

/** The body of `POST /internal/games` (live-game-api's contract, snake_case). */
export interface CreateGameBody {
  tenant_id: string;
  white_user_id: string;
  black_user_id: string;
  time_control: string;
  mode: 'rated' | 'casual';
  white_rating: number | null;
  black_rating: number | null;
  metadata: Record<string, unknown>;
}

export interface Game {
  gameId: string;
  idempotencyKey: string;
  request: CreateGameBody;
  status: 'active' | 'finished';
  createdAt: string;
  finishedAt: string | null;
  result: string | null;
}

export type CreateOutcome =
  | { kind: 'created'; game: Game }
  /** The key was seen before with the same request: the same game. */
  | { kind: 'replayed'; game: Game }
  /** The key was seen before with a different request. */
  | { kind: 'key_mismatch'; game: Game }
  /** A player already has another active game. */
  | { kind: 'player_busy'; userId: string; gameId: string };

const playerKey = (tenantId: string, userId: string) => `${tenantId}\u0000${userId}`;
const keyScope = (tenantId: string, key: string) => `${tenantId}\u0000${key}`;

/** Same game request? (compares the fields that define the game, not the metadata's extras) */
const sameRequest = (a: CreateGameBody, b: CreateGameBody) =>
  a.tenant_id === b.tenant_id &&
  a.white_user_id === b.white_user_id &&
  a.black_user_id === b.black_user_id &&
  a.time_control === b.time_control &&
  a.mode === b.mode;

/**
 * In-memory games: idempotent creation by (tenant, Idempotency-Key), each player's active
 * game, finishing. Everything is lost when the process exits — it is a test double.
 */
export class GameRegistry {
  private readonly games = new Map<string, Game>();
  private readonly byKey = new Map<string, string>();
  private readonly activeByPlayer = new Map<string, string>();

  constructor(
    private readonly options: { onePerPlayer: boolean; now?: () => Date; newId?: () => string } = {
      onePerPlayer: true,
    },
  ) {}

  create(request: CreateGameBody, idempotencyKey: string): CreateOutcome {
    const existingId = this.byKey.get(keyScope(request.tenant_id, idempotencyKey));
    if (existingId) {
      const game = this.games.get(existingId)!;
      return sameRequest(game.request, request) ? { kind: 'replayed', game } : { kind: 'key_mismatch', game };
    }
    if (this.options.onePerPlayer) {
      for (const userId of [request.white_user_id, request.black_user_id]) {
        const busy = this.activeByPlayer.get(playerKey(request.tenant_id, userId));
        if (busy) return { kind: 'player_busy', userId, gameId: busy };
      }
    }
    const game: Game = {
      gameId: this.options.newId?.() ?? randomUUID(),
      idempotencyKey,
      request,
      status: 'active',
      createdAt: (this.options.now?.() ?? new Date()).toISOString(),
      finishedAt: null,
      result: null,
    };
    this.games.set(game.gameId, game);
    this.byKey.set(keyScope(request.tenant_id, idempotencyKey), game.gameId);
    for (const userId of [request.white_user_id, request.black_user_id])
      this.activeByPlayer.set(playerKey(request.tenant_id, userId), game.gameId);
    return { kind: 'created', game };
  }

  /** Ends a game; its players have no active game any more. `null` if unknown. Idempotent. */
  finish(gameId: string, result: string | null): Game | null {
    const game = this.games.get(gameId);
    if (!game) return null;
    if (game.status === 'finished') return game;
    game.status = 'finished';
    game.finishedAt = (this.options.now?.() ?? new Date()).toISOString();
    game.result = result;
    for (const userId of [game.request.white_user_id, game.request.black_user_id]) {
      const key = playerKey(game.request.tenant_id, userId);
      if (this.activeByPlayer.get(key) === gameId) this.activeByPlayer.delete(key);
    }
    return game;
  }

  get(gameId: string): Game | undefined {
    return this.games.get(gameId);
  }

  activeGameOf(tenantId: string, userId: string): Game | undefined {
    const id = this.activeByPlayer.get(playerKey(tenantId, userId));
    return id ? this.games.get(id) : undefined;
  }

  list(filter: { tenantId?: string; status?: Game['status'] } = {}): Game[] {
    return [...this.games.values()].filter(
      (g) =>
        (filter.tenantId === undefined || g.request.tenant_id === filter.tenantId) &&
        (filter.status === undefined || g.status === filter.status),
    );
  }

  get size(): number {
    return this.games.size;
  }
}

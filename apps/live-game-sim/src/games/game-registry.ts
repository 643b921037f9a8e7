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
  /** `cancelled`: called off before it was played (e.g. matchmaking aborted the match). */
  status: 'active' | 'finished' | 'cancelled';
  createdAt: string;
  finishedAt: string | null;
  result: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
}

/** The match id matchmaking put in the game's metadata, if any. */
export const matchIdOf = (game: Game): string | null => {
  const id = game.request.metadata.match_id;
  return typeof id === 'string' && id.length > 0 ? id : null;
};

export type CancelOutcome =
  | { kind: 'cancelled'; game: Game }
  /** Already cancelled: the same answer again (idempotent). */
  | { kind: 'already_cancelled'; game: Game }
  /** Played to the end: too late to cancel. */
  | { kind: 'finished'; game: Game }
  | { kind: 'not_found' };

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
  private readonly gameIdByKey = new Map<string, string>();
  private readonly activeByPlayer = new Map<string, string>();

  constructor(
    private readonly options: { onePerPlayer: boolean; now?: () => Date; newId?: () => string } = {
      onePerPlayer: true,
    },
  ) {}

  create(request: CreateGameBody, idempotencyKey: string): CreateOutcome {
    const existingId = this.gameIdByKey.get(keyScope(request.tenant_id, idempotencyKey));
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
      createdAt: this.nowIso(),
      finishedAt: null,
      result: null,
      cancelledAt: null,
      cancelReason: null,
    };
    this.games.set(game.gameId, game);
    this.gameIdByKey.set(keyScope(request.tenant_id, idempotencyKey), game.gameId);
    for (const userId of [request.white_user_id, request.black_user_id])
      this.activeByPlayer.set(playerKey(request.tenant_id, userId), game.gameId);
    return { kind: 'created', game };
  }

  /** Ends a game; its players have no active game any more. `null` if unknown. Idempotent. A cancelled game stays cancelled. */
  finish(gameId: string, result: string | null): Game | null {
    const game = this.games.get(gameId);
    if (!game) return null;
    if (game.status !== 'active') return game;
    game.status = 'finished';
    game.finishedAt = this.nowIso();
    game.result = result;
    this.freePlayers(game);
    return game;
  }

  /**
   * Calls an active game off (the compensating call of a caller that gave up on it); its
   * players have no active game any more. Idempotent; a finished game cannot be cancelled.
   */
  cancel(gameId: string, reason: string | null): CancelOutcome {
    const game = this.games.get(gameId);
    if (!game) return { kind: 'not_found' };
    if (game.status === 'cancelled') return { kind: 'already_cancelled', game };
    if (game.status === 'finished') return { kind: 'finished', game };
    game.status = 'cancelled';
    game.cancelledAt = this.nowIso();
    game.cancelReason = reason;
    this.freePlayers(game);
    return { kind: 'cancelled', game };
  }

  /** The game created with this Idempotency-Key (tenant-scoped), whatever its status. */
  byKey(tenantId: string, idempotencyKey: string): Game | undefined {
    const id = this.gameIdByKey.get(keyScope(tenantId, idempotencyKey));
    return id ? this.games.get(id) : undefined;
  }

  get(gameId: string): Game | undefined {
    return this.games.get(gameId);
  }

  activeGameOf(tenantId: string, userId: string): Game | undefined {
    const id = this.activeByPlayer.get(playerKey(tenantId, userId));
    return id ? this.games.get(id) : undefined;
  }

  /** Games in creation order, filtered by tenant, status and/or the match id in their metadata. */
  list(filter: { tenantId?: string; status?: Game['status']; matchId?: string } = {}): Game[] {
    return [...this.games.values()].filter(
      (g) =>
        (filter.tenantId === undefined || g.request.tenant_id === filter.tenantId) &&
        (filter.status === undefined || g.status === filter.status) &&
        (filter.matchId === undefined || matchIdOf(g) === filter.matchId),
    );
  }

  private nowIso(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  private freePlayers(game: Game): void {
    for (const userId of [game.request.white_user_id, game.request.black_user_id]) {
      const key = playerKey(game.request.tenant_id, userId);
      if (this.activeByPlayer.get(key) === game.gameId) this.activeByPlayer.delete(key);
    }
  }

  get size(): number {
    return this.games.size;
  }
}

import { type Game, matchIdOf } from '../games/game-registry.js';

/** A game as the simulator shows it over HTTP (snake_case, like live-game-api). */
export const gameView = (game: Game) => ({
  game_id: game.gameId,
  idempotency_key: game.idempotencyKey,
  tenant_id: game.request.tenant_id,
  /** From `metadata.match_id` (null when the creator sent none): what the audit reconciles by. */
  match_id: matchIdOf(game),
  white_user_id: game.request.white_user_id,
  black_user_id: game.request.black_user_id,
  time_control: game.request.time_control,
  mode: game.request.mode,
  white_rating: game.request.white_rating,
  black_rating: game.request.black_rating,
  metadata: game.request.metadata,
  status: game.status,
  created_at: game.createdAt,
  finished_at: game.finishedAt,
  result: game.result,
  cancelled_at: game.cancelledAt,
  cancel_reason: game.cancelReason,
});

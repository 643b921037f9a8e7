import { type CreateGameRequest, type LiveGameApi, UpstreamError } from '@mm/integrations';
import type { WorkerContext } from '../context.js';
import {
  abortMatch,
  loadMatchStream,
  recordGameCreated,
  recordGameCreatedWithPlayers,
  settlePlayers,
} from '../match/match-steps.js';

export type GameCreationOutcome =
  | { outcome: 'game_created'; gameId: string }
  | { outcome: 'aborted'; reason: string }
  | { outcome: 'already_settled'; status: string }
  | { outcome: 'match_not_found' };

export interface GameCreationAttempt {
  tenantId: string;
  matchId: string;
  /** 1-based attempt number of this run. */
  attempt: number;
  /** Attempts allowed in total; on the last one a retryable failure aborts the match. */
  maxAttempts: number;
}

/** Thrown for a retryable failure before the last attempt: BullMQ retries the job with backoff. */
export class GameCreationRetry extends Error {
  readonly code = 'GAME_CREATION_RETRY';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'GameCreationRetry';
  }
}

/**
 * One attempt of the game-creation job. Reads the match stream first, so re-running it
 * (retry, stalled job, scheduler re-drive) only finishes what is missing:
 * - aborted → release the players (again); game created → record it on both players (again);
 * - otherwise `POST /internal/games` with idempotency key = match id (a retry after a lost
 *   reply gets the same game), then `GameCreated` and `RecordGameStarted` on both players
 *   (one transaction where the store can);
 * - a non-retryable rejection, or a retryable failure on the last attempt, → `MatchAborted`
 *   and both players back in the queue with their original enqueue time (I5).
 */
export async function createGameForMatch(
  ctx: WorkerContext & { liveGame: LiveGameApi },
  job: GameCreationAttempt,
): Promise<GameCreationOutcome> {
  const { tenantId, matchId } = job;
  const loaded = await loadMatchStream(ctx, matchId);
  const { state } = loaded;
  if (!state.match) return { outcome: 'match_not_found' };
  if (state.status !== 'created') {
    await settlePlayers(ctx, tenantId, state);
    return { outcome: 'already_settled', status: state.status };
  }
  const match = state.match;
  const request: CreateGameRequest = {
    tenant_id: tenantId,
    white_user_id: match.white.userId,
    black_user_id: match.black.userId,
    time_control: match.pool.timeControl,
    mode: match.pool.mode,
    white_rating: match.white.rating,
    black_rating: match.black.rating,
    metadata: {
      match_id: matchId,
      source: match.source,
      challenge_id: match.challengeId ?? null,
      pool: match.pool.key,
      algorithm_version: match.algorithmVersion,
    },
  };

  let gameId: string;
  try {
    gameId = (await ctx.liveGame.createGame(request, matchId)).gameId;
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    const last = job.attempt >= job.maxAttempts;
    if (error.retryable && !last)
      throw new GameCreationRetry(`live-game-api failed (attempt ${job.attempt}/${job.maxAttempts})`, error);
    const reason = error.retryable ? 'game_creation_failed' : 'game_creation_rejected';
    const after = await abortMatch(ctx, tenantId, matchId, {
      reason,
      attempts: job.attempt,
      detail: error.message.slice(0, 500),
    });
    await settlePlayers(ctx, tenantId, after);
    ctx.logger.warn({ matchId, tenantId, reason, attempts: job.attempt, err: error }, 'match aborted');
    return after.status === 'aborted'
      ? { outcome: 'aborted', reason }
      : { outcome: 'already_settled', status: after.status };
  }

  // One transaction for the match and both players where the store can; it decides on the
  // match stream as read before the call, so a concurrent abort makes it conflict (nothing
  // written) and the step by step path below reads again.
  const together = await recordGameCreatedWithPlayers(ctx, tenantId, matchId, gameId, loaded);
  if (together) return { outcome: 'game_created', gameId: together.gameId ?? gameId };
  const after = await recordGameCreated(ctx, tenantId, matchId, gameId, loaded);
  await settlePlayers(ctx, tenantId, after);
  if (after.status === 'aborted') {
    // The abort won the race (only possible when two runs overlapped): the game is orphaned.
    ctx.logger.error({ matchId, gameId }, 'game created for a match that was aborted meanwhile');
    return { outcome: 'aborted', reason: after.abortReason ?? 'unknown' };
  }
  return { outcome: 'game_created', gameId: after.gameId ?? gameId };
}

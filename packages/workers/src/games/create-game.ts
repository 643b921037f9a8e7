import type { MatchCreatedData } from '@mm/contracts';
import { type LoadedMatch, type MatchState, recordCreatedGame } from '@mm/domain';
import { type CreateGameRequest, type LiveGameApi, UpstreamError } from '@mm/integrations';
import { enqueueCompensation } from '@mm/redis';
import { matchFlowContext, type WorkerContext } from '../context.js';
import { abortMatch, loadMatchStream, settlePlayers } from '../match/match-steps.js';
import {
  type CompensationOutcome,
  cancelMatchGame,
  describeLookup,
  lookUpMatchGame,
  type MatchGameLookup,
  standingGame,
} from './match-game.js';

/** What became of a game live-game-api may hold for an aborted match: done, queued for later, or refused by it. */
export type Compensation = CompensationOutcome | 'scheduled' | 'refused';

export type GameCreationOutcome =
  /** `reconciled`: the create calls failed, but live-game-api had made the game (found by key). */
  | { outcome: 'game_created'; gameId: string; reconciled?: true }
  /** `compensation`: what became of a game live-game-api made for the match anyway. */
  | { outcome: 'aborted'; reason: string; compensation?: Compensation }
  | { outcome: 'already_settled'; status: string; compensation?: Compensation }
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

type Ctx = WorkerContext & { liveGame: LiveGameApi };

/** Aborts that game creation caused: live-game-api may hold a game for them (player_unavailable never called it). */
const afterGameCreation = (state: MatchState) =>
  state.status === 'aborted' &&
  (state.abortReason === 'game_creation_failed' || state.abortReason === 'game_creation_rejected');

/**
 * One attempt of the game-creation job. Reads the match stream first, so re-running it
 * (retry, stalled job, scheduler re-drive) only finishes what is missing:
 * - aborted → release the players (again) and cancel any game live-game-api made for the
 *   match (the compensation; a failure is retried with backoff);
 * - game created → record it on both players (again);
 * - otherwise `POST /internal/games` with idempotency key = match id (a retry after a lost
 *   reply gets the same game), then `GameCreated` and `RecordGameStarted` on both players
 *   (one transaction where the store can);
 * - a non-retryable rejection, or a retryable failure on the last attempt: any earlier
 *   attempt may have made the game without our hearing of it, so live-game-api is asked for
 *   the match's game by key first. Found → `GameCreated` with it (the normal path). Not found
 *   (or it cannot tell) → `MatchAborted`, both players back in the queue with their original
 *   enqueue time (I5), and — when an attempt's outcome was unknown — a delayed compensation
 *   job that cancels a game that shows up after all.
 */
export async function createGameForMatch(
  ctx: Ctx,
  job: GameCreationAttempt,
  /**
   * The match stream as known without reading it (the commit that just wrote `MatchCreated`
   * in this process). Decided on like a read one: if it is stale, recording the game
   * conflicts and the stream is read then (an aborted match's game is cancelled, as in a race).
   */
  known?: LoadedMatch,
): Promise<GameCreationOutcome> {
  const { tenantId, matchId } = job;
  const loaded = known ?? (await loadMatchStream(ctx, matchId));
  const { state } = loaded;
  if (!state.match) return { outcome: 'match_not_found' };
  if (state.status !== 'created') {
    await settlePlayers(ctx, tenantId, state);
    if (!afterGameCreation(state)) return { outcome: 'already_settled', status: state.status };
    return { outcome: 'already_settled', status: state.status, compensation: await compensate(ctx, job) };
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
  let reconciled = false;
  try {
    gameId = (await ctx.liveGame.createGame(request, matchId)).gameId;
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    const last = job.attempt >= job.maxAttempts;
    if (error.retryable && !last) {
      if (error.outcomeUnknown)
        ctx.logger.info(
          { matchId, tenantId, attempt: job.attempt, err: error },
          'game creation outcome unknown (the game may exist): retrying with the same key',
        );
      throw new GameCreationRetry(`live-game-api failed (attempt ${job.attempt}/${job.maxAttempts})`, error);
    }
    // Final failure. An earlier attempt (or this one) may have made the game: ask before giving up.
    const lookup = await reconcile(ctx, tenantId, match, error);
    const found = standingGame(lookup);
    if (found) {
      ctx.logger.warn(
        { matchId, tenantId, gameId: found.gameId, gameStatus: found.status, attempts: job.attempt, err: error },
        'game creation failed, but live-game-api has the game for the match: recording it',
      );
      gameId = found.gameId;
      reconciled = true;
    } else return abortAfterFailure(ctx, job, error, lookup);
  }

  // The domain's game creation outcome: one transaction for the match and both players where
  // the store can, decided on the match stream as read before the call, so a concurrent abort
  // makes it conflict (nothing written) and its step by step path reads again.
  const recorded = await recordCreatedGame(matchFlowContext(ctx, tenantId), { matchId, gameId, loaded });
  if (recorded.outcome === 'aborted') {
    // The abort won the race (only possible when two runs overlapped): the players go back, the game must go.
    await settlePlayers(ctx, tenantId, recorded.match);
    ctx.logger.warn({ matchId, gameId }, 'game created for a match that was aborted meanwhile: cancelling it');
    return {
      outcome: 'aborted',
      reason: recorded.match.abortReason ?? 'unknown',
      compensation: await compensate(ctx, job, gameId),
    };
  }
  for (const player of recorded.players)
    if (!player.ok)
      ctx.logger.error(
        { matchId, userId: player.userId, error: player.error },
        'could not record the started game on the player stream',
      );
  return gameCreated(recorded.gameId, reconciled);
}

const gameCreated = (gameId: string, reconciled: boolean): GameCreationOutcome =>
  reconciled ? { outcome: 'game_created', gameId, reconciled: true } : { outcome: 'game_created', gameId };

/**
 * The match's game by key. When that finds none (or cannot tell) and live-game-api refused
 * the game, the players' active games are asked too: a player "already in a game" may be in
 * this match's own game (made by an attempt whose reply was lost) — then that is the game.
 */
async function reconcile(
  ctx: Ctx,
  tenantId: string,
  match: MatchCreatedData,
  failure: UpstreamError,
): Promise<MatchGameLookup> {
  const { matchId } = match;
  const lookup = await lookUpMatchGame(ctx.liveGame, tenantId, matchId);
  // A refusal may name this match's own game as the player's other game (a service that checks
  // the players before the key); a live-game-api without the by-key lookup answers 404 to it.
  if (standingGame(lookup) || failure.retryable) return lookup;
  for (const side of [match.white, match.black]) {
    const active = await ctx.liveGame.activeGame(tenantId, side.userId).catch(() => null);
    if (active?.matchId === matchId)
      return { kind: 'found', game: { gameId: active.gameId, status: 'active', matchId } };
  }
  return lookup;
}

/** `MatchAborted` (with what the reconciliation found), the players released, and a second look scheduled when needed. */
async function abortAfterFailure(
  ctx: Ctx,
  job: GameCreationAttempt,
  error: UpstreamError,
  lookup: MatchGameLookup,
): Promise<GameCreationOutcome> {
  const { tenantId, matchId } = job;
  const reason = error.retryable ? 'game_creation_failed' : 'game_creation_rejected';
  const after = await abortMatch(ctx, tenantId, matchId, {
    reason,
    attempts: job.attempt,
    detail: `${error.message.slice(0, 300)}; ${describeLookup(lookup)}`.slice(0, 500),
  });
  await settlePlayers(ctx, tenantId, after);
  if (after.status !== 'aborted') return { outcome: 'already_settled', status: after.status };
  // Earlier attempts failed retryably (some may have made the game), this one's outcome is
  // unknown, or the lookup could not tell: a game may exist or still land (a create call that
  // timed out here may be committed there later). A delayed job looks again and cancels it.
  const unsure = job.attempt > 1 || error.outcomeUnknown || lookup.kind === 'unknown';
  if (unsure)
    await enqueueCompensation(
      ctx.gameCreationQueue,
      ctx.config,
      { tenantId, matchId },
      lookup.kind === 'unknown' ? ctx.config.GAME_CREATION_BACKOFF_MS : ctx.config.LIVE_GAME_API_TIMEOUT_SECONDS * 1000,
    );
  ctx.logger.warn(
    { matchId, tenantId, reason, attempts: job.attempt, lookup: lookup.kind, secondLook: unsure, err: error },
    'match aborted',
  );
  return unsure ? { outcome: 'aborted', reason, compensation: 'scheduled' } : { outcome: 'aborted', reason };
}

/**
 * Cancels whatever game live-game-api has for the aborted match (or `gameId`, when known).
 * If live-game-api cannot do it now: before the job's last attempt the job is retried; on the
 * last one a compensation job is queued (its own attempts; a compensation job's own last
 * attempt only logs), rather than leaving the game.
 */
async function compensate(ctx: Ctx, job: GameCreationAttempt, gameId?: string): Promise<Compensation> {
  const { tenantId, matchId } = job;
  try {
    const outcome = await cancelMatchGame(ctx.liveGame, tenantId, matchId, gameId);
    if (outcome.outcome === 'cancelled')
      ctx.logger.warn({ matchId, tenantId, gameId: outcome.gameId }, 'cancelled the game of an aborted match');
    else if (outcome.outcome === 'finished')
      ctx.logger.error(
        { matchId, tenantId, gameId: outcome.gameId },
        'the game of an aborted match was played before it could be cancelled',
      );
    return outcome;
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    if (!error.retryable) {
      // A refusal will not change by retrying: the audit's reconciliation reports the game.
      ctx.logger.error(
        { matchId, tenantId, gameId, err: error },
        'live-game-api refused to cancel the game of an aborted match',
      );
      return 'refused';
    }
    if (job.attempt < job.maxAttempts)
      throw new GameCreationRetry(`could not cancel the game of aborted match ${matchId}`, error);
    await enqueueCompensation(
      ctx.gameCreationQueue,
      ctx.config,
      { tenantId, matchId },
      ctx.config.GAME_CREATION_BACKOFF_MS,
    );
    ctx.logger.warn(
      { matchId, tenantId, gameId, err: error },
      'could not cancel the game of an aborted match: queued a retry',
    );
    return 'scheduled';
  }
}

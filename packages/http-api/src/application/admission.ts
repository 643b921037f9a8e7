import type { Config } from '@mm/config';
import { type LiveGameApi, RatingUnavailableError, UpstreamError } from '@mm/integrations';
import { ProblemError, problems } from '../errors/problem.js';
import type { Caller } from './caller.js';

/**
 * The checks every way into a game shares (joining the queue, accepting a challenge): the
 * time control is offered, nobody is already playing, the rating service answered.
 */
export interface Admission {
  /** 400 `UNKNOWN_POOL` unless `timeControl` is one of `POOLS`. */
  offeredPool(timeControl: string): void;
  /**
   * 409 `ACTIVE_GAME_EXISTS` if live-game-api knows an active game of any of `userIds`.
   * When it cannot be asked: `ACTIVE_GAME_CHECK_ON_FAILURE` decides (503, or allow and log).
   */
  noActiveGame(caller: Caller, userIds: readonly string[]): Promise<void>;
  /** A rating-api failure as the answer it gets (503 when it is unavailable). */
  ratingFailure(error: unknown): never;
}

export function createAdmission(config: Config, liveGame: LiveGameApi): Admission {
  const pools = new Set(config.POOLS);
  return {
    offeredPool(timeControl) {
      if (pools.has(timeControl)) return;
      throw new ProblemError(
        400,
        'UNKNOWN_POOL',
        'Unknown pool',
        `Time control ${timeControl} is not offered; choose one of ${[...pools].join(', ')}.`,
        { errors: [{ path: 'time_control', message: 'not an offered time control' }] },
      );
    },

    async noActiveGame(caller, userIds) {
      if (!config.ACTIVE_GAME_CHECK) return;
      const tenantId = caller.principal.tenantId;
      const results = await Promise.allSettled(userIds.map((userId) => liveGame.activeGame(tenantId, userId)));
      for (const [index, result] of results.entries()) {
        const userId = userIds[index]!;
        if (result.status === 'fulfilled') {
          if (!result.value) continue;
          const gameId = result.value.gameId;
          throw userId === caller.principal.userId && userIds.length === 1
            ? new ProblemError(409, 'ACTIVE_GAME_EXISTS', 'An active game exists', `Finish game ${gameId} first.`, {
                game_id: gameId,
              })
            : new ProblemError(
                409,
                'ACTIVE_GAME_EXISTS',
                'An active game exists',
                `User ${userId} is playing game ${gameId}.`,
                {
                  user_id: userId,
                  game_id: gameId,
                },
              );
        }
        if (!(result.reason instanceof UpstreamError)) throw result.reason;
        if (config.ACTIVE_GAME_CHECK_ON_FAILURE === 'reject')
          throw problems.unavailable('Could not check for an active game; retry shortly.');
        caller.log.warn(
          { err: result.reason },
          'active-game check failed: allowing it (ACTIVE_GAME_CHECK_ON_FAILURE=allow)',
        );
      }
    },

    ratingFailure(error) {
      if (error instanceof RatingUnavailableError)
        throw problems.unavailable('The rating service is unavailable; retry shortly.');
      throw error;
    },
  };
}

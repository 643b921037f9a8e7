import type { Config } from '@mm/config';
import { bullPrefix } from '@mm/projections';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ queue of game creations: one job per match (job id = match id). */
export const GAME_CREATION_QUEUE = 'game-creation';

export interface GameCreationJobData {
  tenantId: string;
  matchId: string;
}

export const createGameCreationQueue = (connection: Redis, config: Config): Queue<GameCreationJobData> =>
  new Queue<GameCreationJobData>(GAME_CREATION_QUEUE, { connection, prefix: bullPrefix(config.REDIS_PREFIX) });

/**
 * Asks for the game of a match to be created. The job id is the match id, so while a job
 * for the match exists (waiting, delayed for a retry, or running) this is a no-op; finished
 * jobs are removed, so a later call (the scheduler re-driving a match stuck in
 * CREATING_GAME) starts a fresh job, which finds the match's state on its stream.
 */
export async function enqueueGameCreation(
  queue: Queue<GameCreationJobData>,
  config: Pick<Config, 'GAME_CREATION_ATTEMPTS' | 'GAME_CREATION_BACKOFF_MS'>,
  data: GameCreationJobData,
): Promise<void> {
  await queue.add('create-game', data, {
    jobId: data.matchId,
    attempts: Math.max(1, config.GAME_CREATION_ATTEMPTS),
    backoff: { type: 'exponential', delay: config.GAME_CREATION_BACKOFF_MS },
    removeOnComplete: true,
    removeOnFail: true,
  });
}

/** The game-creation path as the challenge workers (and the API's accept) ask for it. */
export const gameCreationRequester = (
  queue: Queue<GameCreationJobData>,
  config: Pick<Config, 'GAME_CREATION_ATTEMPTS' | 'GAME_CREATION_BACKOFF_MS'>,
): { request(tenantId: string, matchId: string): Promise<void> } => ({
  request: (tenantId, matchId) => enqueueGameCreation(queue, config, { tenantId, matchId }),
});

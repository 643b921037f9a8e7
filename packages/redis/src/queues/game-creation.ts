import type { Config } from '@mm/config';
import { Queue } from 'bullmq';
import type { RedisClient } from '../client.js';
import { queueOptions } from '../keys.js';

/** BullMQ queue of game creations: one job per match (job id = match id), and compensations. */
export const GAME_CREATION_QUEUE = 'game-creation';

/** Job names in {@link GAME_CREATION_QUEUE}. Both run the same step (it reads the match's state first). */
export const CREATE_GAME_JOB = 'create-game';
export const CANCEL_MATCH_GAME_JOB = 'cancel-match-game';

/** Attempts of a compensation job (cancelling an aborted match's game). */
export const COMPENSATION_ATTEMPTS = 10;

export interface GameCreationJobData {
  tenantId: string;
  matchId: string;
  /**
   * Attempts already run before this job (the pairing worker's first attempt in-process):
   * the job's attempts continue the count, so a match still gets GAME_CREATION_ATTEMPTS in all.
   */
  attemptsBefore?: number;
}

/** The attempt a game-creation job runs now and the attempts allowed in all (counting those before the job). */
export const gameCreationAttempt = (
  data: GameCreationJobData,
  job: { attemptsMade: number; opts: { attempts?: number } },
): { attempt: number; maxAttempts: number } => {
  const before = data.attemptsBefore ?? 0;
  return { attempt: before + job.attemptsMade + 1, maxAttempts: before + (job.opts.attempts ?? 1) };
};

export const createGameCreationQueue = (
  connection: RedisClient,
  config: Pick<Config, 'REDIS_PREFIX'>,
): Queue<GameCreationJobData> =>
  new Queue<GameCreationJobData>(
    GAME_CREATION_QUEUE,
    queueOptions(connection, config.REDIS_PREFIX, GAME_CREATION_QUEUE),
  );

/**
 * Asks for the game of a match to be created. The job id is the match id, so while a job
 * for the match exists (waiting, delayed for a retry, or running) this is a no-op; finished
 * jobs are removed, so a later call (the scheduler re-driving a match stuck in
 * CREATING_GAME) starts a fresh job, which finds the match's state on its stream.
 * `data.attemptsBefore` (attempts run elsewhere first) leaves the job the rest of
 * GAME_CREATION_ATTEMPTS (at least one); `delayMs` starts it later (a retry's backoff).
 */
export async function enqueueGameCreation(
  queue: Queue<GameCreationJobData>,
  config: Pick<Config, 'GAME_CREATION_ATTEMPTS' | 'GAME_CREATION_BACKOFF_MS'>,
  data: GameCreationJobData,
  delayMs = 0,
): Promise<void> {
  await queue.add(CREATE_GAME_JOB, data, {
    jobId: data.matchId,
    ...(delayMs > 0 ? { delay: delayMs } : {}),
    attempts: Math.max(1, config.GAME_CREATION_ATTEMPTS - (data.attemptsBefore ?? 0)),
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

/** Job id of an aborted match's compensation ("cancel any game it has") on the game-creation queue. */
export const compensationJobId = (matchId: string): string => `${matchId}.cancel-game`;

/**
 * Asks for an aborted match's game to be cancelled later, by a job on the game-creation
 * queue: that job runs the game-creation step, which finds the match aborted and cancels
 * whatever game live-game-api has for it (retried with backoff while live-game-api cannot
 * answer). `delayMs` gives a create call still in flight at live-game-api (the caller timed
 * out, the server did not) the time to land, so the job sees its game. One job per match
 * while it waits (job id).
 */
export async function enqueueCompensation(
  queue: Queue<GameCreationJobData>,
  config: Pick<Config, 'GAME_CREATION_BACKOFF_MS'>,
  data: GameCreationJobData,
  delayMs: number,
): Promise<void> {
  await queue.add(CANCEL_MATCH_GAME_JOB, data, {
    jobId: compensationJobId(data.matchId),
    delay: Math.max(0, delayMs),
    attempts: COMPENSATION_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.GAME_CREATION_BACKOFF_MS },
    removeOnComplete: true,
    removeOnFail: true,
  });
}

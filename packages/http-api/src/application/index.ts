import { createChallengeQueries } from '@mm/projections';
import type { ApiDependencies } from '../dependencies.js';
import { createAdmission } from './admission.js';
import { type ChallengeService, createChallengeService } from './challenge-service.js';
import { createPlayerCommands } from './player-commands.js';
import { createQueueService, type QueueService } from './queue-service.js';

export type { Caller } from './caller.js';
export { callerOf, commandMetadata } from './caller.js';
export type { ChallengeService } from './challenge-service.js';
export type { EntryAnswer, Live, QueueService } from './queue-service.js';

/** The API's use cases, one service per resource; the routes only parse, call and render. */
export interface Application {
  queue: QueueService;
  challenges: ChallengeService;
}

export function createApplication(deps: ApiDependencies): Application {
  const admission = createAdmission(deps.config, deps.liveGame);
  const players = createPlayerCommands(deps.store);
  return {
    queue: createQueueService({
      store: deps.store,
      players,
      admission,
      ratings: deps.ratings,
      queries: deps.queries,
      queueViews: deps.queueViews,
    }),
    challenges: createChallengeService({
      store: deps.store,
      admission,
      ratings: deps.ratings,
      queries: deps.challengeQueries ?? createChallengeQueries(deps.db, deps.readModelSchema),
      ...(deps.challengeExpiry ? { challengeExpiry: deps.challengeExpiry } : {}),
      ...(deps.gameCreation ? { gameCreation: deps.gameCreation } : {}),
      ttlSeconds: deps.config.CHALLENGE_TTL_SECONDS,
      maxPendingChallenges: deps.config.MAX_PENDING_CHALLENGES,
      defaultRating: deps.config.DEFAULT_RATING,
    }),
  };
}

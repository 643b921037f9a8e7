import type { Config } from '@mm/config';
import type { LoadedMatch, MatchFlowContext } from '@mm/domain';
import type { Actor, EventMetadata, EventStore } from '@mm/event-store';
import type { LiveGameApi } from '@mm/integrations';
import type { GameCreationJobData } from '@mm/redis';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';

/** What the worker steps share: the store, the queues they enqueue into, settings, logging. */
export interface WorkerContext {
  config: Config;
  logger: Logger;
  store: EventStore;
  gameCreationQueue: Queue<GameCreationJobData>;
  /** Clock in epoch ms (tests may pin it). */
  now: () => number;
  /** live-game-api, where a step needs it (game creation; who is busy after a refusal). */
  liveGame?: LiveGameApi;
  /**
   * Starts the game of a match this process's pairing pass just made (resolves once it is
   * started, not created); `match`: the match stream as the commit left it, when known.
   * @defaultValue a game-creation job on {@link gameCreationQueue}
   */
  startGame?: (tenantId: string, matchId: string, match?: LoadedMatch) => Promise<void>;
}

/** Who our workers' events say wrote them. */
const WORKER_ACTOR: Actor = { type: 'service', id: 'matchmaking-worker' };

/** Metadata of events our workers append: a service actor, correlated to the match (or entry) they are about. */
export const serviceMetadata = (
  tenantId: string,
  correlationId: string,
  causationId: string | null = null,
): EventMetadata => ({
  tenantId,
  correlationId,
  causationId,
  actor: WORKER_ACTOR,
});

/** The context a match flow of `@mm/domain` runs in for a job of `tenantId`: the store, the job's clock now, the worker actor. */
export const matchFlowContext = (ctx: Pick<WorkerContext, 'store' | 'now'>, tenantId: string): MatchFlowContext => ({
  store: ctx.store,
  now: new Date(ctx.now()).toISOString(),
  metadata: { tenantId, actor: WORKER_ACTOR },
});

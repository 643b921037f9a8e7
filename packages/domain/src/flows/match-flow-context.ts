import type { Actor, EventMetadata, EventStore } from '@mm/event-store';

/**
 * What the match flows (queue match commit, claim recovery, game creation outcome) need: the
 * store, the time of their commands, and who writes. Every event a match flow appends is
 * about one match: it is correlated to the match id (which the commit flow only derives as it
 * runs), and its id is derived from that match id (`matchEventId`), so running a flow
 * again appends nothing twice.
 */
export interface MatchFlowContext {
  store: EventStore;
  /** ISO-8601 time of the flow's commands. */
  now: string;
  /** The tenant names the player streams; the actor is stamped on every event. */
  metadata: { tenantId: string; actor: Actor };
}

/** Metadata of an event about `matchId`: the context's tenant and actor, correlated to the match. */
export const matchMetadata = (context: MatchFlowContext, matchId: string): EventMetadata => ({
  tenantId: context.metadata.tenantId,
  correlationId: matchId,
  causationId: null,
  actor: context.metadata.actor,
});

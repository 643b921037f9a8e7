import type { ProjectedEvent } from '../postgres/read-model-handlers.js';

/*
 * What an event does to the queue views, shared by the per-event path (queue-view-projection.ts,
 * through the Lua scripts) and the fast rebuild (queue-view-rebuild.ts, folded in memory), so
 * both derive the same changes from the same event.
 */

/**
 * How long the hash of an entry that ended for good (cancelled, timed out, game started) is
 * kept: it guards against redelivered events. A matched or held entry is kept without expiry
 * until then, because its match can still be aborted and the entry come back. @defaultValue 1 day
 */
export const ENDED_TTL_SECONDS = 86_400;
/** Recent opponents kept per user. */
export const RECENT_KEEP = 10;
export const RECENT_TTL_SECONDS = 7 * 86_400;

/** An `applyEntry` operation (packages/redis/lua/applyEntry-5.lua). */
export type Op = { op: 'add' | 'unhold' | 'remove' | 'end'; status: string; ttl: number };

/** The entry an event changes and how (a `ChallengeMatchReleased`'s held entry is looked up separately). */
export const entryOp = (event: ProjectedEvent): { entryId: string; op: Op } | null => {
  const keep = 0;
  switch (event.type) {
    case 'QueueJoined':
      return { entryId: event.data.queueEntryId, op: { op: 'add', status: 'SEARCHING', ttl: keep } };
    case 'QueueEntryReleased':
      return { entryId: event.data.queueEntryId, op: { op: 'add', status: 'SEARCHING', ttl: keep } };
    case 'QueueCancelled':
      return { entryId: event.data.queueEntryId, op: { op: 'remove', status: 'CANCELLED', ttl: ENDED_TTL_SECONDS } };
    case 'QueueTimedOut':
      return { entryId: event.data.queueEntryId, op: { op: 'remove', status: 'TIMED_OUT', ttl: ENDED_TTL_SECONDS } };
    case 'QueueEntryMatched':
      return { entryId: event.data.queueEntryId, op: { op: 'remove', status: 'MATCHED', ttl: keep } };
    case 'QueueEntryGameStarted':
      return event.data.queueEntryId
        ? { entryId: event.data.queueEntryId, op: { op: 'end', status: '', ttl: ENDED_TTL_SECONDS } }
        : null;
    case 'ChallengeMatchClaimed':
      return event.data.heldQueueEntryId
        ? { entryId: event.data.heldQueueEntryId, op: { op: 'remove', status: 'HELD', ttl: keep } }
        : null;
    default:
      return null;
  }
};

/** The op a `ChallengeMatchReleased` applies to the entry its match held. */
export const UNHOLD: Op = { op: 'unhold', status: 'SEARCHING', ttl: 0 };

/** The fields a `QueueJoined` writes into a new entry's hash, as the script receives them (in this order). */
export const joinFields = (event: Extract<ProjectedEvent, { type: 'QueueJoined' }>) => {
  const d = event.data;
  return {
    user: d.userId,
    pool: d.pool.key,
    enq: String(Date.parse(d.enqueuedAt)),
    rating: String(d.rating),
    range: JSON.stringify(d.ratingRange),
  };
};

/** The recent-opponent items a `MatchCreated` pushes: white's, then black's. */
export const recentItems = (
  event: Extract<ProjectedEvent, { type: 'MatchCreated' }>,
): { userId: string; item: string }[] => {
  const d = event.data;
  return (
    [
      [d.white, d.black, 'white'],
      [d.black, d.white, 'black'],
    ] as const
  ).map(([me, other, colour]) => ({
    userId: me.userId,
    item: JSON.stringify({ opponentId: other.userId, at: d.decidedAt, colour, matchId: d.matchId }),
  }));
};

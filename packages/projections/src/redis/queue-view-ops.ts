import type { ProjectedEvent } from '../postgres/read-model-handlers.js';

/*
 * What an event does to the queue views, shared by the per-event path (queue-view-projection.ts,
 * through the Lua scripts) and the fast rebuild (queue-view-rebuild.ts, folded in memory), so
 * both derive the same changes from the same event.
 */

/**
 * How long the hash of an entry that ended for good (cancelled, timed out, game started) is
 * kept: it guards against redelivered events. Events are redelivered only from the views'
 * checkpoint, which is written after every batch, so the hash must only outlive the batch in
 * flight and a projector's restart; 10 minutes is ample (it was a day: 250 B per join for a day).
 * A matched or held entry is kept without expiry until then, because its match can still be
 * aborted and the entry come back. @defaultValue 10 minutes
 */
export const ENDED_TTL_SECONDS = 600;
/** Recent games kept per user: what colour balance looks at (COLOUR_HISTORY_LENGTH of @mm/pairing). */
export const RECENT_KEEP = 10;
/**
 * How long a user's recent games are kept after their last match: what pairing needs them for —
 * colour balance over a session of games and the rematch cool-down, which @mm/config caps at this
 * (REMATCH_COOLDOWN_SECONDS ≤ 1 h). It was 7 days: ≈ 480 B per join for a week.
 */
export const RECENT_TTL_SECONDS = 3600;

/** An `applyEntry` operation (packages/redis/lua/applyEntry-4.lua). */
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
    item: recentItem(colour, Date.parse(d.decidedAt), other.userId),
  }));
};

/**
 * A recent game as stored in the user's list: `<w|b><decided at, ms>|<opponent id>` (≈ 40 B; the
 * JSON it replaces, with the match id and an ISO time, was ≈ 130 B). Readers also accept that
 * older JSON form, which lists written before this change still hold until they expire.
 */
export const recentItem = (colour: 'white' | 'black', at: number, opponentId: string): string =>
  `${colour === 'white' ? 'w' : 'b'}${at}|${opponentId}`;

/** Reads a recent-game item in either form (see {@link recentItem}). */
export const parseRecentItem = (item: string): { opponentId: string; at: number; colour: 'white' | 'black' } => {
  if (item.startsWith('{')) {
    const old = JSON.parse(item) as { opponentId: string; at: string; colour: 'white' | 'black' };
    return { opponentId: old.opponentId, at: Date.parse(old.at), colour: old.colour };
  }
  const bar = item.indexOf('|');
  return {
    colour: item[0] === 'w' ? 'white' : 'black',
    at: Number(item.slice(1, bar)),
    opponentId: item.slice(bar + 1),
  };
};

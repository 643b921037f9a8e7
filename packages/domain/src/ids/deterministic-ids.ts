import { createHash } from 'node:crypto';

/**
 * A UUID (RFC 9562 version 8, "custom") derived from its parts with SHA-256. The same parts
 * always give the same id, so a job that is retried or run twice writes events the store
 * already has (appends are idempotent by event id) and decides the same match id.
 */
export function uuidFrom(...parts: (string | number)[]): string {
  // Length-prefixed so ("ab","c") and ("a","bc") differ.
  const hash = createHash('sha256');
  for (const part of parts) {
    const text = String(part);
    hash.update(`${text.length}:${text};`);
  }
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One side of a pairing decision: the entry and its player stream's revision when the pair was decided. */
export interface DecidedSide {
  queueEntryId: string;
  /** Revision of the player's stream (or -1 for a stream that does not exist, which cannot happen for a searching entry). */
  streamRevision: number;
}

/**
 * The match id of a queue pair. Derived from both entries and both player streams'
 * revisions at decision time, order-independently: two passes deciding the same pair from
 * the same state pick the same match (and converge on it), while an entry that was released
 * and searches again has moved its stream, so a later pairing of the same two entries gets a
 * fresh id (a released claim is never "re-used" by a stale decision).
 */
export function queueMatchId(tenantId: string, x: DecidedSide, y: DecidedSide): string {
  const [first, second] = x.queueEntryId <= y.queueEntryId ? [x, y] : [y, x];
  return uuidFrom(
    'queue-match',
    tenantId,
    first.queueEntryId,
    first.streamRevision,
    second.queueEntryId,
    second.streamRevision,
  );
}

/**
 * Event id of one step of a match's lifecycle (`claim`, `create`, `abort`, `release`,
 * `game-created`, `game-started`, …), optionally per participant.
 */
export const matchEventId = (matchId: string, step: string, participant = ''): string =>
  uuidFrom('match-event', matchId, step, participant);

/** Event id of the timeout of a queue entry (an entry times out at most once). */
export const timeoutEventId = (tenantId: string, queueEntryId: string): string =>
  uuidFrom('queue-timeout', tenantId, queueEntryId);

import type { Violation } from './types.js';

/** What the audit knows about one queue entry while replaying. */
export interface EntryState {
  tenantId: string;
  userId: string;
  queueEntryId: string;
  poolKey: string;
  rating: number;
  ratingRange: { min?: number; max?: number } | null;
  enqueuedAt: number;
  /** `held`: reserved by an accepted challenge's match (not matchable, not cancellable by the user). */
  status: 'searching' | 'claimed' | 'held' | 'cancelled' | 'timed_out' | 'started';
  /** The match holding the entry while claimed/held, or the one that started its game. */
  matchId: string | null;
  /** Every match that ever claimed the entry, with whether that claim was released. */
  claims: ClaimRecord[];
  cancelReason: string | null;
}

export interface SideState {
  userId: string;
  queueEntryId: string | null;
  rating: number;
  window: { low: number; high: number } | null;
}

/** What the audit knows about one match while replaying. */
export interface MatchState {
  tenantId: string;
  matchId: string;
  source: 'queue' | 'challenge';
  challengeId: string | null;
  poolKey: string;
  white: SideState;
  black: SideState;
  position: number;
  gameId: string | null;
  aborted: { reason: string } | null;
  /** Users whose player stream recorded the game start. */
  started: Set<string>;
  /** Order of creation (end-of-log violations are reported in this order). */
  seq: number;
}

/** One claim of an entry by a match, shared by the entry and the match it names. */
export interface ClaimRecord {
  matchId: string;
  released: boolean;
  opponentUserId: string;
  opponentEntryId: string | null;
}

/** The player (tenant + user): live matches as seen on the player stream. */
export interface PlayerState {
  tenantId: string;
  userId: string;
  /** Match ids claimed on the player stream and not yet ended there (game started / released). */
  liveMatches: Set<string>;
}

export const key = (tenantId: string, id: string): string => `${tenantId}\u0000${id}`;

/** Collects violations, attaching the position of the event being replayed. */
export class ViolationLog {
  readonly list: Violation[] = [];
  position: number | undefined;

  add(violation: Omit<Violation, 'position'>, atEnd = false): void {
    this.list.push(atEnd || this.position === undefined ? violation : { ...violation, position: this.position });
  }
}

import {
  challengeEventTypes,
  eventSchemas,
  isEventType,
  matchEventTypes,
  parseEvent,
  playerEventTypes,
} from '@mm/contracts';
import type { RecordedEvent } from '@mm/event-store';
import {
  type ClaimsOfMatch,
  checkMatchAtEnd,
  checkPlayersAtEnd,
  countEntriesAtEnd,
  matchIsSettled,
} from './end-checks.js';
import { type EntryState, key, type MatchState, type PlayerState, ViolationLog } from './state.js';
import type { Raw } from './streaming/audit-fold.js';
import { applyChallengeEvent } from './streaming/challenge-events.js';
import { applyMatchEvent } from './streaming/match-events.js';
import { applyPlayerEvent } from './streaming/player-events.js';
import type { AuditOptions, AuditResult, AuditStats, Violation } from './types.js';

/** Each event family's checks, by event type (one module per stream category). */
const familyOf = new Map<string, typeof applyPlayerEvent>([
  ...playerEventTypes.map((t) => [t, applyPlayerEvent] as const),
  ...matchEventTypes.map((t) => [t, applyMatchEvent] as const),
  ...challengeEventTypes.map((t) => [t, applyChallengeEvent] as const),
]);

export interface StreamingAuditOptions extends AuditOptions {
  /**
   * Violations found at events before this position are not reported (the events are still
   * replayed: the state at `from` needs the whole log before it). Counted in `suppressed`.
   */
  reportFrom?: number;
}

/** How much state the audit holds right now (what memory grows with). */
export interface AuditFootprint {
  /** Queue entries still in play (searching, claimed, held). */
  openEntries: number;
  /** Matches that have not settled (not ended, or a claim, release or game start still missing). */
  openMatches: number;
  /** Entries and matches that settled: a compact record each, so a late event about one still gets its code. */
  settledEntries: number;
  settledMatches: number;
  players: number;
}

/** A settled match: what later events about it are checked against. */
interface SettledMatch {
  gameId: string | null;
  aborted: string | null;
}

/** Order of the packed fields of a settled entry. */
type PackedEntry = [
  status: EntryState['status'],
  matchId: string | null,
  userId: string,
  poolKey: string,
  rating: number,
  enqueuedAt: number,
  ratingRange: EntryState['ratingRange'],
  cancelReason: string | null,
];

const TERMINAL = new Set<EntryState['status']>(['cancelled', 'timed_out', 'started']);

/**
 * The log audit (invariants I1–I5) as a fold over events pushed one page at a time, in
 * position order: memory holds the entries and matches still in play, plus a compact record
 * (about 150 bytes) per settled one — so a late event about a settled entry or match (a cancel
 * after the game started, a second game) still gets the same code as with the whole log in
 * memory. An entry settles when it is cancelled, timed out or its game started; a match when
 * it ended and its claims, releases and game starts are all recorded.
 *
 * Each event is checked against the state the events before it produced, so an ordering that
 * could only come from a race (a claim after a cancel, a second live match) is caught where it
 * happens. End-of-log checks (open matches, stuck claims) are only violations with
 * `{ settled: true }`.
 */
export class StreamingAuditor {
  // The state and helpers below that are not private are the fold the event-family modules
  // (streaming/player-events.ts, match-events.ts, challenge-events.ts) apply events to; they are
  // not part of the package's API (only push, pushAll, finish, footprint and stats are).
  readonly violations = new ViolationLog();
  private readonly endViolations: { seq: number; violation: Omit<Violation, 'position'> }[] = [];
  private readonly warnings: string[] = [];
  readonly entries = new Map<string, EntryState>();
  private readonly settledEntries = new Map<string, string>();
  readonly matches = new Map<string, MatchState>();
  readonly settledMatches = new Map<string, SettledMatch>();
  private readonly players = new Map<string, PlayerState>();
  /** Match-stream view: user → matches created and not yet ended (GameCreated / MatchAborted). */
  readonly openMatchesOfUser = new Map<string, Set<string>>();
  /** Claims seen per match (tenant-scoped match key), to check both sides were claimed. */
  readonly claimsOfMatch = new Map<string, ClaimsOfMatch>();
  readonly challenges = new Map<string, { challengerId: string; opponentId: string; poolKey: string }>();
  readonly tenants = new Set<string>();
  /** Searching entries per player (I1 checks stay O(1)). */
  private readonly searching = new Map<string, Set<string>>();
  /** Entries held by a challenge match, per player. */
  readonly held = new Map<string, Set<string>>();
  /** Entries loaded or changed by the current event (settled after it, when terminal). */
  private touched: EntryState[] = [];
  matchSeq = 0;
  private suppressed = 0;
  private finished = false;
  readonly stats: AuditStats = {
    events: 0,
    eventsByType: {},
    invalidEvents: 0,
    unknownEventTypes: 0,
    tenants: 0,
    players: 0,
    queueEntries: 0,
    cancelled: 0,
    timedOut: 0,
    claims: 0,
    releases: 0,
    matches: 0,
    queueMatches: 0,
    challengeMatches: 0,
    gamesCreated: 0,
    matchesAborted: 0,
    openMatches: 0,
    searchingAtEnd: 0,
    claimedAtEnd: 0,
    playersInLiveMatchAtEnd: 0,
  };

  private reportFromPosition: number | undefined;

  constructor(readonly options: StreamingAuditOptions = {}) {
    this.reportFromPosition = options.reportFrom;
  }

  /** Reports violations from the event at `position` on (see {@link StreamingAuditOptions.reportFrom}). */
  reportFromNow(position: number): void {
    this.reportFromPosition ??= position;
  }

  /** How much state is held now. */
  footprint(): AuditFootprint {
    return {
      openEntries: this.entries.size,
      openMatches: this.matches.size,
      settledEntries: this.settledEntries.size,
      settledMatches: this.settledMatches.size,
      players: this.players.size,
    };
  }

  /** Violations found so far (at events; end-of-log checks come with {@link finish}). */
  get violationCount(): number {
    return this.violations.list.length;
  }

  /** Replays a page of events (in position order, after everything pushed before). */
  pushAll(events: readonly RecordedEvent[]): void {
    for (const event of events) this.push(event);
  }

  /** Replays one event. */
  push(event: RecordedEvent): void {
    if (this.finished) throw new Error('StreamingAuditor: push after finish');
    const { stats } = this;
    stats.events++;
    stats.eventsByType[event.type] = (stats.eventsByType[event.type] ?? 0) + 1;
    this.violations.position = event.position;
    if (!isEventType(event.type)) {
      stats.unknownEventTypes++;
      return;
    }
    try {
      parseEvent(event.type, event.schemaVersion ?? eventSchemas[event.type].schemaVersion, event.data);
    } catch (error) {
      stats.invalidEvents++;
      if (this.warnings.length < 100)
        this.warnings.push(`event ${event.id} (${event.type} at ${event.position}) fails its schema: ${String(error)}`);
    }
    const before = this.violations.list.length;
    try {
      this.apply(event);
    } catch (error) {
      this.warning(`could not audit event ${event.id} (${event.type} at ${event.position}): ${String(error)}`);
    }
    for (const entry of this.touched) this.settleEntry(entry);
    this.touched = [];
    const from = this.reportFromPosition;
    if (from !== undefined && event.position < from && this.violations.list.length > before) {
      this.suppressed += this.violations.list.length - before;
      this.violations.list.length = before;
    }
  }

  /** The end-of-log checks and the result. The auditor cannot take more events afterwards. */
  finish(): AuditResult & { suppressed: number } {
    this.finished = true;
    const { stats, options } = this;
    this.violations.position = undefined;
    const end = [...this.endViolations];
    for (const match of this.matches.values()) {
      if (match.gameId === null && match.aborted === null) stats.openMatches++;
      for (const violation of checkMatchAtEnd(
        match,
        this.claimsOfMatch.get(key(match.tenantId, match.matchId)),
        this.players,
        options,
      ))
        end.push({ seq: match.seq, violation });
    }
    end.sort((a, b) => a.seq - b.seq);
    for (const { violation } of end) this.violations.add(violation, true);
    for (const violation of checkPlayersAtEnd(
      this.players,
      (tenantId, matchId) =>
        this.matches.has(key(tenantId, matchId)) || this.settledMatches.has(key(tenantId, matchId)),
      stats,
      options,
    ))
      this.violations.add(violation, true);
    countEntriesAtEnd(this.entries.values(), stats);
    stats.tenants = this.tenants.size;
    stats.players = this.players.size;
    return {
      ok: this.violations.list.length === 0,
      violations: this.violations.list,
      stats,
      warnings: this.warnings,
      suppressed: this.suppressed,
    };
  }

  warning(text: string) {
    if (this.warnings.length < 1000) this.warnings.push(text);
  }

  player(tenantId: string, userId: string): PlayerState {
    const k = key(tenantId, userId);
    let p = this.players.get(k);
    if (!p) {
      p = { tenantId, userId, liveMatches: new Set() };
      this.players.set(k, p);
    }
    return p;
  }

  /** An entry, open or settled (a settled one is brought back while events touch it). */
  entry(tenantId: string, queueEntryId: string): EntryState | undefined {
    const k = key(tenantId, queueEntryId);
    const open = this.entries.get(k);
    if (open) {
      this.touched.push(open);
      return open;
    }
    const packed = this.settledEntries.get(k);
    if (packed === undefined) return undefined;
    const [status, matchId, userId, poolKey, rating, enqueuedAt, ratingRange, cancelReason] = JSON.parse(
      packed,
    ) as PackedEntry;
    const entry: EntryState = {
      tenantId,
      userId,
      queueEntryId,
      poolKey,
      rating,
      ratingRange,
      enqueuedAt: enqueuedAt ?? Number.NaN,
      status,
      matchId,
      claims: [],
      cancelReason,
    };
    this.settledEntries.delete(k);
    this.entries.set(k, entry);
    this.touched.push(entry);
    return entry;
  }

  private settleEntry(entry: EntryState) {
    if (!TERMINAL.has(entry.status)) return;
    const k = key(entry.tenantId, entry.queueEntryId);
    if (this.entries.get(k) !== entry) return;
    this.entries.delete(k);
    const packed: PackedEntry = [
      entry.status,
      entry.matchId,
      entry.userId,
      entry.poolKey,
      entry.rating,
      entry.enqueuedAt,
      entry.ratingRange,
      entry.cancelReason,
    ];
    this.settledEntries.set(k, JSON.stringify(packed));
  }

  tenantOfEntry(queueEntryId: string): string | undefined {
    for (const entry of this.entries.values()) if (entry.queueEntryId === queueEntryId) return entry.tenantId;
    const suffix = `\u0000${queueEntryId}`;
    for (const k of this.settledEntries.keys()) if (k.endsWith(suffix)) return k.slice(0, -suffix.length);
    return undefined;
  }

  setStatus(entry: EntryState, status: EntryState['status']) {
    const pk = key(entry.tenantId, entry.userId);
    const index = (map: Map<string, Set<string>>, add: boolean) => {
      let set = map.get(pk);
      if (add) {
        if (!set) {
          set = new Set();
          map.set(pk, set);
        }
        set.add(entry.queueEntryId);
      } else if (set?.delete(entry.queueEntryId) && set.size === 0) map.delete(pk);
    };
    index(this.searching, status === 'searching');
    index(this.held, status === 'held');
    entry.status = status;
  }

  otherSearching(entry: EntryState): string[] {
    return [...(this.searching.get(key(entry.tenantId, entry.userId)) ?? [])].filter((id) => id !== entry.queueEntryId);
  }

  /** Starts a live match for the player (claim); I2: never two at once. */
  beginLiveMatch(tenantId: string, userId: string, matchId: string) {
    const p = this.player(tenantId, userId);
    const others = [...p.liveMatches].filter((m) => m !== matchId);
    if (others.length > 0)
      this.violations.add({
        invariant: 'I2',
        code: 'USER_IN_TWO_LIVE_MATCHES',
        detail: `user ${userId} claimed for match ${matchId} while still in live match ${others.join(', ')}`,
        tenantId,
        userId,
        matchId,
      });
    p.liveMatches.add(matchId);
  }

  /** Drops a match's state once nothing later can change its end-of-log verdict. */
  maybeSettleMatch(tenantId: string, matchId: string) {
    const mk = key(tenantId, matchId);
    const match = this.matches.get(mk);
    if (!match) return;
    const claimed = this.claimsOfMatch.get(mk);
    if (!matchIsSettled(match, claimed, this.players)) return;
    for (const violation of checkMatchAtEnd(match, claimed, this.players, this.options))
      this.endViolations.push({ seq: match.seq, violation });
    this.matches.delete(mk);
    this.claimsOfMatch.delete(mk);
    this.settledMatches.set(mk, { gameId: match.gameId, aborted: match.aborted?.reason ?? null });
  }

  endOpenMatch(match: { tenantId: string; matchId: string; white: { userId: string }; black: { userId: string } }) {
    for (const s of [match.white, match.black]) {
      const uk = key(match.tenantId, s.userId);
      const open = this.openMatchesOfUser.get(uk);
      if (open?.delete(match.matchId) && open.size === 0) this.openMatchesOfUser.delete(uk);
    }
  }

  private apply(event: RecordedEvent) {
    const d: Raw = event.data ?? {};
    const tenantId = String(event.metadata?.tenantId ?? '');
    this.tenants.add(tenantId);
    // One module per event family (stream category); an event type of none (a pool's pass
    // record, a type added later) has nothing to check here.
    const family = familyOf.get(event.type);
    if (family) family(this, event, d, tenantId);
  }
}

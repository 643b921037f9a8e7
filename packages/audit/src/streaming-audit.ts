import { eventSchemas, isEventType, parseEvent } from '@mm/contracts';
import type { RecordedEvent } from '@mm/event-store';
import {
  type ClaimsOfMatch,
  checkMatchAtEnd,
  checkPlayersAtEnd,
  countEntriesAtEnd,
  matchIsSettled,
} from './end-checks.js';
import { checkMatchDecision } from './match-checks.js';
import { type ClaimRecord, type EntryState, key, type MatchState, type PlayerState, ViolationLog } from './state.js';
import type { AuditOptions, AuditResult, AuditStats, Violation } from './types.js';

/** The fields the audit reads, typed loosely on purpose: it must not trust the schemas it is checking. */
// biome-ignore lint/suspicious/noExplicitAny: raw event data is read defensively
type Raw = any;

const time = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : Number.NaN);

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
  private readonly violations = new ViolationLog();
  private readonly endViolations: { seq: number; violation: Omit<Violation, 'position'> }[] = [];
  private readonly warnings: string[] = [];
  private readonly entries = new Map<string, EntryState>();
  private readonly settledEntries = new Map<string, string>();
  private readonly matches = new Map<string, MatchState>();
  private readonly settledMatches = new Map<string, SettledMatch>();
  private readonly players = new Map<string, PlayerState>();
  /** Match-stream view: user → matches created and not yet ended (GameCreated / MatchAborted). */
  private readonly openMatchesOfUser = new Map<string, Set<string>>();
  /** Claims seen per match (tenant-scoped match key), to check both sides were claimed. */
  private readonly claimsOfMatch = new Map<string, ClaimsOfMatch>();
  private readonly challenges = new Map<string, { challengerId: string; opponentId: string; poolKey: string }>();
  private readonly tenants = new Set<string>();
  /** Searching entries per player (I1 checks stay O(1)). */
  private readonly searching = new Map<string, Set<string>>();
  /** Entries held by a challenge match, per player. */
  private readonly held = new Map<string, Set<string>>();
  /** Entries loaded or changed by the current event (settled after it, when terminal). */
  private touched: EntryState[] = [];
  private matchSeq = 0;
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

  constructor(private readonly options: StreamingAuditOptions = {}) {
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

  private warning(text: string) {
    if (this.warnings.length < 1000) this.warnings.push(text);
  }

  private player(tenantId: string, userId: string): PlayerState {
    const k = key(tenantId, userId);
    let p = this.players.get(k);
    if (!p) {
      p = { tenantId, userId, liveMatches: new Set() };
      this.players.set(k, p);
    }
    return p;
  }

  /** An entry, open or settled (a settled one is brought back while events touch it). */
  private entry(tenantId: string, queueEntryId: string): EntryState | undefined {
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

  private tenantOfEntry(queueEntryId: string): string | undefined {
    for (const entry of this.entries.values()) if (entry.queueEntryId === queueEntryId) return entry.tenantId;
    const suffix = `\u0000${queueEntryId}`;
    for (const k of this.settledEntries.keys()) if (k.endsWith(suffix)) return k.slice(0, -suffix.length);
    return undefined;
  }

  private setStatus(entry: EntryState, status: EntryState['status']) {
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

  private otherSearching(entry: EntryState): string[] {
    return [...(this.searching.get(key(entry.tenantId, entry.userId)) ?? [])].filter((id) => id !== entry.queueEntryId);
  }

  /** Starts a live match for the player (claim); I2: never two at once. */
  private beginLiveMatch(tenantId: string, userId: string, matchId: string) {
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
  private maybeSettleMatch(tenantId: string, matchId: string) {
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

  private endOpenMatch(match: {
    tenantId: string;
    matchId: string;
    white: { userId: string };
    black: { userId: string };
  }) {
    for (const s of [match.white, match.black]) {
      const uk = key(match.tenantId, s.userId);
      const open = this.openMatchesOfUser.get(uk);
      if (open?.delete(match.matchId) && open.size === 0) this.openMatchesOfUser.delete(uk);
    }
  }

  private apply(event: RecordedEvent) {
    const { stats, violations } = this;
    const d: Raw = event.data ?? {};
    const tenantId = String(event.metadata?.tenantId ?? '');
    this.tenants.add(tenantId);
    switch (event.type) {
      case 'QueueJoined': {
        if (this.entry(tenantId, d.queueEntryId)) {
          violations.add({
            invariant: 'I1',
            code: 'DUPLICATE_QUEUE_ENTRY',
            detail: `queue entry ${d.queueEntryId} joined twice`,
            tenantId,
            userId: d.userId,
            queueEntryId: d.queueEntryId,
          });
          break;
        }
        const entry: EntryState = {
          tenantId,
          userId: d.userId,
          queueEntryId: d.queueEntryId,
          poolKey: d.pool?.key,
          rating: d.rating,
          ratingRange: d.ratingRange ?? null,
          enqueuedAt: time(d.enqueuedAt),
          status: 'searching',
          matchId: null,
          claims: [],
          cancelReason: null,
        };
        this.entries.set(key(tenantId, d.queueEntryId), entry);
        this.player(tenantId, d.userId);
        stats.queueEntries++;
        const others = this.otherSearching(entry);
        if (others.length > 0)
          violations.add({
            invariant: 'I1',
            code: 'TWO_SEARCHING_ENTRIES',
            detail: `user ${d.userId} joined with entry ${d.queueEntryId} while entry ${others.join(', ')} is searching`,
            tenantId,
            userId: d.userId,
            queueEntryId: d.queueEntryId,
          });
        this.setStatus(entry, 'searching');
        break;
      }
      case 'QueueCancelled': {
        const entry = this.entry(tenantId, d.queueEntryId);
        stats.cancelled++;
        if (!entry) {
          this.warning(`QueueCancelled for unknown entry ${d.queueEntryId} at ${event.position}`);
          break;
        }
        const fromHold = d.reason === 'challenge_accepted' && entry.status === 'held';
        if (!fromHold && entry.status !== 'searching')
          violations.add({
            invariant: 'I3',
            code:
              entry.status === 'claimed' || entry.status === 'started'
                ? 'CANCEL_OF_MATCHED_ENTRY'
                : 'CANCEL_OF_ENDED_ENTRY',
            detail: `entry ${entry.queueEntryId} cancelled (${d.reason}) while ${entry.status}${entry.matchId ? ` by match ${entry.matchId}` : ''}`,
            tenantId,
            userId: entry.userId,
            queueEntryId: entry.queueEntryId,
            ...(entry.matchId ? { matchId: entry.matchId } : {}),
          });
        entry.cancelReason = d.reason ?? 'user';
        this.setStatus(entry, 'cancelled');
        break;
      }
      case 'QueueTimedOut': {
        const entry = this.entry(tenantId, d.queueEntryId);
        stats.timedOut++;
        if (!entry) {
          this.warning(`QueueTimedOut for unknown entry ${d.queueEntryId} at ${event.position}`);
          break;
        }
        if (entry.status !== 'searching')
          violations.add({
            invariant: 'I3',
            code: 'TIMEOUT_OF_NON_SEARCHING_ENTRY',
            detail: `entry ${entry.queueEntryId} timed out while ${entry.status}${entry.matchId ? ` by match ${entry.matchId}` : ''}`,
            tenantId,
            userId: entry.userId,
            queueEntryId: entry.queueEntryId,
          });
        this.setStatus(entry, 'timed_out');
        break;
      }
      case 'QueueEntryMatched': {
        stats.claims++;
        const entry = this.entry(tenantId, d.queueEntryId);
        const mk = key(tenantId, d.matchId);
        const matchSettled = this.settledMatches.has(mk);
        let claims = this.claimsOfMatch.get(mk);
        if (!claims && !matchSettled) {
          claims = new Map();
          this.claimsOfMatch.set(mk, claims);
        }
        const entryKey = key(tenantId, d.queueEntryId);
        if (!entry) {
          if (claims && !claims.has(entryKey)) claims.set(entryKey, null);
          violations.add({
            invariant: 'I4',
            code: 'CLAIM_OF_UNKNOWN_ENTRY',
            detail: `claim of entry ${d.queueEntryId} that never joined (match ${d.matchId})`,
            tenantId,
            userId: d.userId,
            queueEntryId: d.queueEntryId,
            matchId: d.matchId,
          });
          break;
        }
        const ids = { tenantId, userId: entry.userId, queueEntryId: entry.queueEntryId, matchId: d.matchId };
        if (entry.status === 'cancelled' || entry.status === 'timed_out')
          violations.add({
            invariant: 'I3',
            code: 'CLAIM_OF_ENDED_ENTRY',
            detail: `entry ${entry.queueEntryId} claimed by match ${d.matchId} after it was ${entry.status === 'cancelled' ? 'cancelled' : 'timed out'}`,
            ...ids,
          });
        else if (entry.status === 'claimed' || entry.status === 'held' || entry.status === 'started')
          violations.add({
            invariant: 'I2',
            code: entry.matchId === d.matchId ? 'ENTRY_CLAIMED_TWICE' : 'ENTRY_IN_TWO_MATCHES',
            detail: `entry ${entry.queueEntryId} claimed by match ${d.matchId} while ${entry.status} by match ${entry.matchId}`,
            ...ids,
          });
        if (d.userId !== entry.userId)
          violations.add({
            invariant: 'I4',
            code: 'CLAIM_USER_MISMATCH',
            detail: `claim of entry ${entry.queueEntryId} names user ${d.userId}, the entry belongs to ${entry.userId}`,
            ...ids,
          });
        this.beginLiveMatch(tenantId, entry.userId, d.matchId);
        const claim: ClaimRecord = {
          matchId: d.matchId,
          released: false,
          opponentUserId: d.opponent?.userId,
          opponentEntryId: d.opponent?.queueEntryId ?? null,
        };
        entry.claims.push(claim);
        if (claims && !claims.get(entryKey)) claims.set(entryKey, claim);
        entry.matchId = d.matchId;
        this.setStatus(entry, 'claimed');
        this.maybeSettleMatch(tenantId, d.matchId);
        break;
      }
      case 'QueueEntryReleased': {
        stats.releases++;
        const entry = this.entry(tenantId, d.queueEntryId);
        if (!entry) {
          this.warning(`QueueEntryReleased for unknown entry ${d.queueEntryId} at ${event.position}`);
          break;
        }
        const claim = entry.claims.find((c) => c.matchId === d.matchId && !c.released);
        if (entry.status !== 'claimed' || entry.matchId !== d.matchId || !claim) {
          violations.add({
            invariant: 'I5',
            code: 'RELEASE_WITHOUT_CLAIM',
            detail: `entry ${entry.queueEntryId} released from match ${d.matchId} while ${entry.status}${entry.matchId ? ` by match ${entry.matchId}` : ''}`,
            tenantId,
            userId: entry.userId,
            queueEntryId: entry.queueEntryId,
            matchId: d.matchId,
          });
          break;
        }
        claim.released = true;
        entry.matchId = null;
        this.player(tenantId, entry.userId).liveMatches.delete(d.matchId);
        const others = this.otherSearching(entry);
        if (others.length > 0)
          violations.add({
            invariant: 'I1',
            code: 'TWO_SEARCHING_ENTRIES',
            detail: `entry ${entry.queueEntryId} searches again (released) while entry ${others.join(', ')} of the same user is searching`,
            tenantId,
            userId: entry.userId,
            queueEntryId: entry.queueEntryId,
          });
        // Searching again with its ORIGINAL enqueuedAt: the entry keeps its QueueJoined time here by construction.
        this.setStatus(entry, 'searching');
        this.maybeSettleMatch(tenantId, d.matchId);
        break;
      }
      case 'ChallengeMatchClaimed': {
        stats.claims++;
        this.beginLiveMatch(tenantId, d.userId, d.matchId);
        if (d.heldQueueEntryId) {
          const entry = this.entry(tenantId, d.heldQueueEntryId);
          if (entry && entry.status !== 'searching')
            violations.add({
              invariant: entry.status === 'cancelled' || entry.status === 'timed_out' ? 'I3' : 'I2',
              code: 'HOLD_OF_NON_SEARCHING_ENTRY',
              detail: `entry ${entry.queueEntryId} held for challenge match ${d.matchId} while ${entry.status}`,
              tenantId,
              userId: entry.userId,
              queueEntryId: entry.queueEntryId,
              matchId: d.matchId,
            });
          if (entry) {
            entry.matchId = d.matchId;
            this.setStatus(entry, 'held');
          }
        }
        break;
      }
      case 'ChallengeMatchReleased': {
        stats.releases++;
        this.player(tenantId, d.userId).liveMatches.delete(d.matchId);
        for (const entryId of [...(this.held.get(key(tenantId, d.userId)) ?? [])]) {
          const entry = this.entry(tenantId, entryId);
          if (entry && entry.status === 'held' && entry.matchId === d.matchId) {
            entry.matchId = null;
            this.setStatus(entry, 'searching');
          }
        }
        this.maybeSettleMatch(tenantId, d.matchId);
        break;
      }
      case 'QueueEntryGameStarted': {
        const p = this.player(tenantId, d.userId);
        const mk = key(tenantId, d.matchId);
        const match = this.matches.get(mk);
        const settledMatch = match ? undefined : this.settledMatches.get(mk);
        const gameId = match ? match.gameId : (settledMatch?.gameId ?? null);
        const aborted = match ? match.aborted !== null : Boolean(settledMatch?.aborted);
        const ids = { tenantId, userId: d.userId, matchId: d.matchId };
        if (!p.liveMatches.has(d.matchId))
          violations.add({
            invariant: 'I5',
            code: 'GAME_START_OUTSIDE_LIVE_MATCH',
            detail: `game ${d.gameId} started for user ${d.userId} in match ${d.matchId}, which is not their live match`,
            ...ids,
          });
        if ((!match && !settledMatch) || gameId === null)
          violations.add({
            invariant: 'I5',
            code: 'GAME_START_BEFORE_GAME_CREATED',
            detail: `player stream records game ${d.gameId} of match ${d.matchId} before/without its GameCreated`,
            ...ids,
          });
        else if (gameId !== d.gameId)
          violations.add({
            invariant: 'I5',
            code: 'GAME_ID_MISMATCH',
            detail: `player stream records game ${d.gameId}, match ${d.matchId} created game ${gameId}`,
            ...ids,
          });
        if (aborted)
          violations.add({
            invariant: 'I5',
            code: 'GAME_START_OF_ABORTED_MATCH',
            detail: `game started for aborted match ${d.matchId}`,
            ...ids,
          });
        match?.started.add(d.userId);
        p.liveMatches.delete(d.matchId);
        if (d.queueEntryId) {
          const entry = this.entry(tenantId, d.queueEntryId);
          if (entry) {
            if (entry.status !== 'claimed' || entry.matchId !== d.matchId)
              violations.add({
                invariant: entry.status === 'cancelled' || entry.status === 'timed_out' ? 'I3' : 'I2',
                code: 'GAME_START_OF_UNCLAIMED_ENTRY',
                detail: `entry ${entry.queueEntryId} got game ${d.gameId} of match ${d.matchId} while ${entry.status}${entry.matchId ? ` by match ${entry.matchId}` : ''}`,
                ...ids,
                queueEntryId: entry.queueEntryId,
              });
            entry.matchId = d.matchId;
            this.setStatus(entry, 'started');
          }
        }
        this.maybeSettleMatch(tenantId, d.matchId);
        break;
      }
      case 'MatchCreated': {
        stats.matches++;
        const mk = key(tenantId, d.matchId);
        if (this.matches.has(mk) || this.settledMatches.has(mk)) {
          violations.add({
            invariant: 'I2',
            code: 'DUPLICATE_MATCH',
            detail: `MatchCreated twice for match ${d.matchId}`,
            tenantId,
            matchId: d.matchId,
          });
          break;
        }
        const side = (s: Raw) => ({
          userId: s?.userId,
          queueEntryId: s?.queueEntryId ?? null,
          rating: s?.rating,
          window: s?.window ?? null,
        });
        const match: MatchState = {
          tenantId,
          matchId: d.matchId,
          source: d.source,
          challengeId: d.challengeId ?? null,
          poolKey: d.pool?.key,
          white: side(d.white),
          black: side(d.black),
          position: event.position,
          gameId: null,
          aborted: null,
          started: new Set(),
          seq: this.matchSeq++,
        };
        this.matches.set(mk, match);
        if (match.source === 'queue') stats.queueMatches++;
        else stats.challengeMatches++;
        for (const s of [match.white, match.black]) {
          const uk = key(tenantId, s.userId);
          const open = this.openMatchesOfUser.get(uk) ?? new Set<string>();
          if (open.size > 0)
            violations.add({
              invariant: 'I2',
              code: 'USER_IN_TWO_OPEN_MATCHES',
              detail: `match ${d.matchId} created for user ${s.userId} while match ${[...open].join(', ')} has not ended`,
              tenantId,
              userId: s.userId,
              matchId: d.matchId,
            });
          open.add(d.matchId);
          this.openMatchesOfUser.set(uk, open);
        }
        checkMatchDecision(match, d, {
          entry: (t, id) => this.entry(t, id),
          tenantOfEntry: (id) => this.tenantOfEntry(id),
          challenges: this.challenges,
          violations,
          options: this.options,
        });
        if (match.challengeId !== null) this.challenges.delete(key(tenantId, match.challengeId));
        break;
      }
      case 'GameCreated': {
        stats.gamesCreated++;
        const mk = key(tenantId, d.matchId);
        const match = this.matches.get(mk);
        const settledMatch = match ? undefined : this.settledMatches.get(mk);
        if (!match && !settledMatch) {
          violations.add({
            invariant: 'I5',
            code: 'GAME_FOR_UNKNOWN_MATCH',
            detail: `GameCreated ${d.gameId} for match ${d.matchId} that was never created`,
            tenantId,
            matchId: d.matchId,
          });
          break;
        }
        const aborted = match ? match.aborted?.reason : settledMatch?.aborted;
        const gameId = match ? match.gameId : (settledMatch?.gameId ?? null);
        if (aborted)
          violations.add({
            invariant: 'I5',
            code: 'GAME_AFTER_ABORT',
            detail: `match ${d.matchId} got game ${d.gameId} after MatchAborted (${aborted})`,
            tenantId,
            matchId: d.matchId,
          });
        if (gameId !== null && gameId !== d.gameId)
          violations.add({
            invariant: 'I2',
            code: 'TWO_GAMES_FOR_MATCH',
            detail: `match ${d.matchId} got game ${d.gameId} after game ${gameId}`,
            tenantId,
            matchId: d.matchId,
          });
        if (match) {
          match.gameId ??= d.gameId;
          this.endOpenMatch(match);
          this.maybeSettleMatch(tenantId, d.matchId);
        } else if (settledMatch) settledMatch.gameId ??= d.gameId;
        break;
      }
      case 'MatchAborted': {
        stats.matchesAborted++;
        const mk = key(tenantId, d.matchId);
        const match = this.matches.get(mk);
        const settledMatch = match ? undefined : this.settledMatches.get(mk);
        if (!match && !settledMatch) {
          violations.add({
            invariant: 'I5',
            code: 'ABORT_OF_UNKNOWN_MATCH',
            detail: `MatchAborted for match ${d.matchId} that was never created`,
            tenantId,
            matchId: d.matchId,
          });
          break;
        }
        const gameId = match ? match.gameId : (settledMatch?.gameId ?? null);
        if (gameId !== null)
          violations.add({
            invariant: 'I5',
            code: 'ABORT_AFTER_GAME',
            detail: `match ${d.matchId} aborted (${d.reason}) after game ${gameId} was created`,
            tenantId,
            matchId: d.matchId,
          });
        if (match) {
          match.aborted ??= { reason: d.reason };
          this.endOpenMatch(match);
          this.maybeSettleMatch(tenantId, d.matchId);
        } else if (settledMatch) settledMatch.aborted ??= d.reason;
        break;
      }
      case 'ChallengeIssued': {
        this.challenges.set(key(tenantId, d.challengeId), {
          challengerId: d.challengerId,
          opponentId: d.opponentId,
          poolKey: `${d.timeControl}:${d.mode}`,
        });
        break;
      }
      case 'ChallengeDeclined':
      case 'ChallengeCancelled':
      case 'ChallengeExpired':
        this.challenges.delete(key(tenantId, d.challengeId));
        break;
      default:
        break;
    }
  }
}

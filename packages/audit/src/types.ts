/** The invariants of docs/architecture.md the audit re-checks from the log (I6 is about read models, not the log). */
export type Invariant = 'I1' | 'I2' | 'I3' | 'I4' | 'I5';

/** One broken rule, with enough context to find the events. */
export interface Violation {
  invariant: Invariant;
  /** Stable machine-readable code, e.g. `CLAIM_OF_CANCELLED_ENTRY`. */
  code: string;
  detail: string;
  tenantId?: string;
  userId?: string;
  queueEntryId?: string;
  matchId?: string;
  /** Global position of the event at which the violation was seen (absent for end-of-log checks). */
  position?: number;
}

/** Wait-based window widening, to re-check the windows recorded in `MatchCreated` (same shape as the config's pairing settings). */
export interface WindowPolicy {
  initialWindow: number;
  wideningStep: number;
  wideningIntervalSeconds: number;
  maxWindow: number;
}

export interface AuditOptions {
  /**
   * The system has settled (no pass or game creation in flight): every match must have
   * ended, no player may still be in a live match, every aborted match's claims released.
   * Without it those are counted in `stats` but not reported.
   * @defaultValue false
   */
  settled?: boolean;
  /**
   * When given, each recorded window must also lie inside what this policy allows at
   * decision time (rating ± widened half-width, intersected with the player's range).
   * Without it only the player's own rating range bounds the window. A function gives each
   * pool's policy (the service's PAIRING_POLICIES: `pairingSettings(config, poolKey)`).
   */
  windowPolicy?: WindowPolicy | ((poolKey: string) => WindowPolicy);
  /**
   * Slack (ms) added to the wait when re-computing the widest allowed window (the worker
   * takes its `now` a moment before it stamps `decidedAt`; clocks of processes differ).
   * @defaultValue 1000
   */
  clockSkewMs?: number;
  /** Rating tolerance when comparing numbers. @defaultValue 1e-9 */
  epsilon?: number;
}

export interface AuditStats {
  events: number;
  eventsByType: Record<string, number>;
  /** Events whose data failed the contract schema (still audited from their raw data). */
  invalidEvents: number;
  unknownEventTypes: number;
  tenants: number;
  players: number;
  queueEntries: number;
  cancelled: number;
  timedOut: number;
  claims: number;
  releases: number;
  matches: number;
  queueMatches: number;
  challengeMatches: number;
  gamesCreated: number;
  matchesAborted: number;
  /** Matches with neither `GameCreated` nor `MatchAborted` at the end of the log. */
  openMatches: number;
  /** Entries still searching at the end of the log. */
  searchingAtEnd: number;
  /** Entries still claimed (matched, game not started) at the end of the log. */
  claimedAtEnd: number;
  /** Players in a live match at the end of the log. */
  playersInLiveMatchAtEnd: number;
}

export interface AuditResult {
  ok: boolean;
  violations: Violation[];
  stats: AuditStats;
  /** Things worth knowing that are not invariant violations (schema failures, unknown types). */
  warnings: string[];
}

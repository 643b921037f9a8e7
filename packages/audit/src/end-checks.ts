import { type ClaimRecord, type EntryState, key, type MatchState, type PlayerState } from './state.js';
import type { AuditOptions, AuditStats, Violation } from './types.js';

/** Claims seen for one match: entry key → its first claim by the match (null: the entry never joined). */
export type ClaimsOfMatch = Map<string, ClaimRecord | null>;

type EndViolation = Omit<Violation, 'position'>;

/**
 * The end-of-log checks of one match: both claims, how it ended, and — once the system has
 * settled — that nothing is left in flight (I5: nobody is stuck). Also used when a match
 * retires early during a streaming audit (then only `CLAIM_OPPONENT_MISMATCH` can fire: a
 * match retires only once every other check here passes for good).
 */
export function checkMatchAtEnd(
  match: MatchState,
  claimed: ClaimsOfMatch | undefined,
  players: Map<string, PlayerState>,
  options: AuditOptions,
): EndViolation[] {
  const out: EndViolation[] = [];
  const add = (v: EndViolation) => out.push(v);
  const settled = options.settled === true;
  const { tenantId, matchId } = match;
  const ended = match.gameId !== null || match.aborted !== null;
  if (!ended && settled)
    add({
      invariant: 'I5',
      code: 'MATCH_NEVER_ENDED',
      detail: `match ${matchId} has neither GameCreated nor MatchAborted`,
      tenantId,
      matchId,
    });

  const sides = [
    { side: match.white, other: match.black },
    { side: match.black, other: match.white },
  ];
  if (match.source === 'queue') {
    // A match aborted because a player could not be claimed may legitimately lack a claim.
    const mayLackClaims = match.aborted?.reason === 'player_unavailable';
    for (const { side, other } of sides) {
      if (!side.queueEntryId) continue;
      const entryKey = key(tenantId, side.queueEntryId);
      if (!claimed?.has(entryKey)) {
        if (!mayLackClaims && (match.gameId !== null || settled))
          add({
            invariant: 'I4',
            code: 'MISSING_CLAIM',
            detail: `match ${matchId}: entry ${side.queueEntryId} of ${side.userId} was never claimed (no QueueEntryMatched)`,
            tenantId,
            matchId,
            userId: side.userId,
            queueEntryId: side.queueEntryId,
          });
        continue;
      }
      const claim = claimed.get(entryKey);
      if (claim && (claim.opponentUserId !== other.userId || claim.opponentEntryId !== other.queueEntryId))
        add({
          invariant: 'I4',
          code: 'CLAIM_OPPONENT_MISMATCH',
          detail: `match ${matchId}: claim of entry ${side.queueEntryId} names opponent ${claim.opponentUserId}/${claim.opponentEntryId}, the match pairs ${other.userId}/${other.queueEntryId}`,
          tenantId,
          matchId,
          userId: side.userId,
          queueEntryId: side.queueEntryId,
        });
      if (match.aborted && claim && !claim.released && settled)
        add({
          invariant: 'I5',
          code: 'ABORTED_NOT_RELEASED',
          detail: `match ${matchId} was aborted (${match.aborted.reason}) but entry ${side.queueEntryId} of ${side.userId} was never released back to the queue`,
          tenantId,
          matchId,
          userId: side.userId,
          queueEntryId: side.queueEntryId,
        });
    }
  } else if (match.aborted && settled) {
    for (const { side } of sides)
      if (players.get(key(tenantId, side.userId))?.liveMatches.has(matchId))
        add({
          invariant: 'I5',
          code: 'ABORTED_NOT_RELEASED',
          detail: `challenge match ${matchId} was aborted but ${side.userId} was never released`,
          tenantId,
          matchId,
          userId: side.userId,
        });
  }
  if (match.gameId !== null && settled)
    for (const { side } of sides)
      if (!match.started.has(side.userId))
        add({
          invariant: 'I5',
          code: 'GAME_START_NOT_RECORDED',
          detail: `match ${matchId} created game ${match.gameId} but ${side.userId}'s stream never recorded it (the player stays in a live match)`,
          tenantId,
          matchId,
          userId: side.userId,
        });
  return out;
}

/**
 * True when nothing later in the log can make {@link checkMatchAtEnd} report more for this
 * match than it reports now: it ended, both entries were claimed (and released, if it was
 * aborted), and both game starts are recorded. Such a match can drop its state.
 */
export function matchIsSettled(
  match: MatchState,
  claimed: ClaimsOfMatch | undefined,
  players: Map<string, PlayerState>,
): boolean {
  if (match.gameId === null && match.aborted === null) return false;
  const sides = [match.white, match.black];
  if (match.source === 'queue') {
    for (const side of sides) {
      if (!side.queueEntryId) continue;
      const entryKey = key(match.tenantId, side.queueEntryId);
      if (!claimed?.has(entryKey)) return false;
      const claim = claimed.get(entryKey);
      if (match.aborted && claim && !claim.released) return false;
    }
  } else if (match.aborted) {
    for (const side of sides)
      if (players.get(key(match.tenantId, side.userId))?.liveMatches.has(match.matchId)) return false;
  }
  if (match.gameId !== null) for (const side of sides) if (!match.started.has(side.userId)) return false;
  return true;
}

/** Whole-log checks over what is still open at the end: open matches, stuck players, figures. */
export function checkPlayersAtEnd(
  players: Map<string, PlayerState>,
  matchKnown: (tenantId: string, matchId: string) => boolean,
  stats: AuditStats,
  options: AuditOptions,
): EndViolation[] {
  const out: EndViolation[] = [];
  for (const p of players.values()) {
    if (p.liveMatches.size > 0) stats.playersInLiveMatchAtEnd++;
    if (options.settled !== true) continue;
    for (const matchId of p.liveMatches)
      if (!matchKnown(p.tenantId, matchId))
        out.push({
          invariant: 'I5',
          code: 'CLAIM_WITHOUT_MATCH',
          detail: `user ${p.userId} is claimed for match ${matchId}, which was never created nor released (stuck)`,
          tenantId: p.tenantId,
          userId: p.userId,
          matchId,
        });
  }
  return out;
}

/** Counts what is left searching or claimed at the end. */
export function countEntriesAtEnd(entries: Iterable<EntryState>, stats: AuditStats): void {
  for (const entry of entries) {
    if (entry.status === 'searching') stats.searchingAtEnd++;
    if (entry.status === 'claimed' || entry.status === 'held') stats.claimedAtEnd++;
  }
}

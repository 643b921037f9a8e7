import { type EntryState, key, type MatchState, type PlayerState, type ViolationLog } from './state.js';
import type { AuditOptions, AuditStats } from './types.js';

interface Context {
  entries: Map<string, EntryState>;
  matches: Map<string, MatchState>;
  players: Map<string, PlayerState>;
  claimsOfMatch: Map<string, Set<string>>;
  challengeClaims: Map<string, Set<string>>;
  violations: ViolationLog;
  stats: AuditStats;
  options: AuditOptions;
}

/**
 * Checks that need the whole log: both claims of every match, how each match ended, and
 * — once the system has settled — that nothing is left in flight (I5: nobody is stuck).
 */
export function checkAtEnd(ctx: Context): void {
  const { entries, matches, players, violations, stats, options } = ctx;
  const settled = options.settled === true;
  const add = (v: Parameters<ViolationLog['add']>[0]) => violations.add(v, true);

  for (const match of matches.values()) {
    const { tenantId, matchId } = match;
    const ended = match.gameId !== null || match.aborted !== null;
    if (!ended) stats.openMatches++;
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
      const claimed = ctx.claimsOfMatch.get(key(tenantId, matchId)) ?? new Set<string>();
      // A match aborted because a player could not be claimed may legitimately lack a claim.
      const mayLackClaims = match.aborted?.reason === 'player_unavailable';
      for (const { side, other } of sides) {
        if (!side.queueEntryId) continue;
        const entryKey = key(tenantId, side.queueEntryId);
        const entry = entries.get(entryKey);
        if (!claimed.has(entryKey)) {
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
        const claim = entry?.claims.find((c) => c.matchId === matchId);
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
  }

  for (const p of players.values()) {
    if (p.liveMatches.size > 0) stats.playersInLiveMatchAtEnd++;
    if (!settled) continue;
    for (const matchId of p.liveMatches)
      if (!matches.has(key(p.tenantId, matchId)))
        add({
          invariant: 'I5',
          code: 'CLAIM_WITHOUT_MATCH',
          detail: `user ${p.userId} is claimed for match ${matchId}, which was never created nor released (stuck)`,
          tenantId: p.tenantId,
          userId: p.userId,
          matchId,
        });
  }

  for (const entry of entries.values()) {
    if (entry.status === 'searching') stats.searchingAtEnd++;
    if (entry.status === 'claimed' || entry.status === 'held') stats.claimedAtEnd++;
  }
}

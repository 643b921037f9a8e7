import type { RecordedEvent } from '@mm/event-store';
import { checkMatchDecision } from '../match-checks.js';
import { key, type MatchState } from '../state.js';
import type { AuditFold, Raw } from './audit-fold.js';

/** A match still in play, or else the compact record of a settled one (a late event still gets its code). */
const matchOrSettled = (a: AuditFold, tenantId: string, matchId: string) => {
  const mk = key(tenantId, matchId);
  const match = a.matches.get(mk);
  return { match, settledMatch: match ? undefined : a.settledMatches.get(mk) };
};

/** Match streams: decisions, games, aborts (I2, I4, I5). */
export function applyMatchEvent(a: AuditFold, event: RecordedEvent, d: Raw, tenantId: string): void {
  const { stats, violations } = a;
  switch (event.type) {
    case 'MatchCreated': {
      stats.matches++;
      const mk = key(tenantId, d.matchId);
      if (a.matches.has(mk) || a.settledMatches.has(mk)) {
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
        seq: a.matchSeq++,
      };
      a.matches.set(mk, match);
      if (match.source === 'queue') stats.queueMatches++;
      else stats.challengeMatches++;
      for (const s of [match.white, match.black]) {
        const uk = key(tenantId, s.userId);
        const open = a.openMatchesOfUser.get(uk) ?? new Set<string>();
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
        a.openMatchesOfUser.set(uk, open);
      }
      checkMatchDecision(match, d, {
        entry: (t, id) => a.entry(t, id),
        tenantOfEntry: (id) => a.tenantOfEntry(id),
        challenges: a.challenges,
        violations,
        options: a.options,
      });
      if (match.challengeId !== null) a.challenges.delete(key(tenantId, match.challengeId));
      break;
    }
    case 'GameCreated': {
      stats.gamesCreated++;
      const { match, settledMatch } = matchOrSettled(a, tenantId, d.matchId);
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
        a.endOpenMatch(match);
        a.maybeSettleMatch(tenantId, d.matchId);
      } else if (settledMatch) settledMatch.gameId ??= d.gameId;
      break;
    }
    case 'MatchAborted': {
      stats.matchesAborted++;
      const { match, settledMatch } = matchOrSettled(a, tenantId, d.matchId);
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
        a.endOpenMatch(match);
        a.maybeSettleMatch(tenantId, d.matchId);
      } else if (settledMatch) settledMatch.aborted ??= d.reason;
      break;
    }
    default:
      break;
  }
}

import type { RecordedEvent } from '@mm/event-store';
import { type ClaimRecord, type EntryState, key } from '../state.js';
import { type AuditFold, type Raw, time } from './audit-fold.js';

/** Player streams: queue entries, claims, releases, game starts, challenge holds (I1, I2, I3). */
export function applyPlayerEvent(a: AuditFold, event: RecordedEvent, d: Raw, tenantId: string): void {
  const { stats, violations } = a;
  switch (event.type) {
    case 'QueueJoined': {
      if (a.entry(tenantId, d.queueEntryId)) {
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
      a.entries.set(key(tenantId, d.queueEntryId), entry);
      a.player(tenantId, d.userId);
      stats.queueEntries++;
      const others = a.otherSearching(entry);
      if (others.length > 0)
        violations.add({
          invariant: 'I1',
          code: 'TWO_SEARCHING_ENTRIES',
          detail: `user ${d.userId} joined with entry ${d.queueEntryId} while entry ${others.join(', ')} is searching`,
          tenantId,
          userId: d.userId,
          queueEntryId: d.queueEntryId,
        });
      a.setStatus(entry, 'searching');
      break;
    }
    case 'QueueCancelled': {
      const entry = a.entry(tenantId, d.queueEntryId);
      stats.cancelled++;
      if (!entry) {
        a.warning(`QueueCancelled for unknown entry ${d.queueEntryId} at ${event.position}`);
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
      a.setStatus(entry, 'cancelled');
      break;
    }
    case 'QueueTimedOut': {
      const entry = a.entry(tenantId, d.queueEntryId);
      stats.timedOut++;
      if (!entry) {
        a.warning(`QueueTimedOut for unknown entry ${d.queueEntryId} at ${event.position}`);
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
      a.setStatus(entry, 'timed_out');
      break;
    }
    case 'QueueEntryMatched': {
      stats.claims++;
      const entry = a.entry(tenantId, d.queueEntryId);
      const mk = key(tenantId, d.matchId);
      const matchSettled = a.settledMatches.has(mk);
      let claims = a.claimsOfMatch.get(mk);
      if (!claims && !matchSettled) {
        claims = new Map();
        a.claimsOfMatch.set(mk, claims);
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
      a.beginLiveMatch(tenantId, entry.userId, d.matchId);
      const claim: ClaimRecord = {
        matchId: d.matchId,
        released: false,
        opponentUserId: d.opponent?.userId,
        opponentEntryId: d.opponent?.queueEntryId ?? null,
      };
      entry.claims.push(claim);
      if (claims && !claims.get(entryKey)) claims.set(entryKey, claim);
      entry.matchId = d.matchId;
      a.setStatus(entry, 'claimed');
      a.maybeSettleMatch(tenantId, d.matchId);
      break;
    }
    case 'QueueEntryReleased': {
      stats.releases++;
      const entry = a.entry(tenantId, d.queueEntryId);
      if (!entry) {
        a.warning(`QueueEntryReleased for unknown entry ${d.queueEntryId} at ${event.position}`);
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
      a.player(tenantId, entry.userId).liveMatches.delete(d.matchId);
      const others = a.otherSearching(entry);
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
      a.setStatus(entry, 'searching');
      a.maybeSettleMatch(tenantId, d.matchId);
      break;
    }
    case 'ChallengeMatchClaimed': {
      stats.claims++;
      a.beginLiveMatch(tenantId, d.userId, d.matchId);
      if (d.heldQueueEntryId) {
        const entry = a.entry(tenantId, d.heldQueueEntryId);
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
          a.setStatus(entry, 'held');
        }
      }
      break;
    }
    case 'ChallengeMatchReleased': {
      stats.releases++;
      a.player(tenantId, d.userId).liveMatches.delete(d.matchId);
      for (const entryId of [...(a.held.get(key(tenantId, d.userId)) ?? [])]) {
        const entry = a.entry(tenantId, entryId);
        if (entry && entry.status === 'held' && entry.matchId === d.matchId) {
          entry.matchId = null;
          a.setStatus(entry, 'searching');
        }
      }
      a.maybeSettleMatch(tenantId, d.matchId);
      break;
    }
    case 'QueueEntryGameStarted': {
      const p = a.player(tenantId, d.userId);
      const mk = key(tenantId, d.matchId);
      const match = a.matches.get(mk);
      const settledMatch = match ? undefined : a.settledMatches.get(mk);
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
        const entry = a.entry(tenantId, d.queueEntryId);
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
          a.setStatus(entry, 'started');
        }
      }
      a.maybeSettleMatch(tenantId, d.matchId);
      break;
    }
    default:
      break;
  }
}

import { eventSchemas, isEventType, parseEvent } from '@mm/contracts';
import type { RecordedEvent } from '@mm/event-store';
import { checkAtEnd } from './end-checks.js';
import { checkMatchDecision } from './match-checks.js';
import { type EntryState, key, type MatchState, type PlayerState, ViolationLog } from './state.js';
import type { AuditOptions, AuditResult, AuditStats } from './types.js';

/** The fields the audit reads, typed loosely on purpose: it must not trust the schemas it is checking. */
// biome-ignore lint/suspicious/noExplicitAny: raw event data is read defensively
type Raw = any;

const time = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : Number.NaN);

/**
 * Replays a whole event log (in position order) and re-checks invariants I1–I5 from it
 * alone — no read model, no worker state. Pure: same log, same result.
 *
 * Each event is checked against the state the events before it produced, so an ordering
 * that could only come from a race (a claim after a cancel, a second live match) is
 * caught where it happens. End-of-log checks (open matches, stuck claims) are only
 * violations with `{ settled: true }`.
 */
export function auditLog(events: readonly RecordedEvent[], options: AuditOptions = {}): AuditResult {
  const violations = new ViolationLog();
  const warnings: string[] = [];
  const entries = new Map<string, EntryState>();
  const matches = new Map<string, MatchState>();
  const players = new Map<string, PlayerState>();
  /** Match-stream view: user → matches created and not yet ended (GameCreated / MatchAborted). */
  const openMatchesOfUser = new Map<string, Set<string>>();
  /** Claims seen per match (tenant-scoped match key → entry keys), to check both sides were claimed. */
  const claimsOfMatch = new Map<string, Set<string>>();
  const challengeClaims = new Map<string, Set<string>>();
  const challenges = new Map<string, { challengerId: string; opponentId: string; poolKey: string }>();
  const tenants = new Set<string>();
  const stats: AuditStats = {
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

  const player = (tenantId: string, userId: string): PlayerState => {
    const k = key(tenantId, userId);
    let p = players.get(k);
    if (!p) {
      p = { tenantId, userId, liveMatches: new Set() };
      players.set(k, p);
    }
    return p;
  };

  // Index of searching entries per player, so I1 checks stay O(1) on big logs.
  const searching = new Map<string, Set<string>>();
  const setStatus = (entry: EntryState, status: EntryState['status']) => {
    const pk = key(entry.tenantId, entry.userId);
    const set = searching.get(pk) ?? new Set<string>();
    if (status === 'searching') set.add(entry.queueEntryId);
    else set.delete(entry.queueEntryId);
    searching.set(pk, set);
    entry.status = status;
  };
  const otherSearching = (entry: EntryState) =>
    [...(searching.get(key(entry.tenantId, entry.userId)) ?? [])].filter((id) => id !== entry.queueEntryId);

  /** Starts a live match for the player (claim); I2: never two at once. */
  const beginLiveMatch = (tenantId: string, userId: string, matchId: string) => {
    const p = player(tenantId, userId);
    const others = [...p.liveMatches].filter((m) => m !== matchId);
    if (others.length > 0)
      violations.add({
        invariant: 'I2',
        code: 'USER_IN_TWO_LIVE_MATCHES',
        detail: `user ${userId} claimed for match ${matchId} while still in live match ${others.join(', ')}`,
        tenantId,
        userId,
        matchId,
      });
    p.liveMatches.add(matchId);
  };

  for (const event of events) {
    stats.events++;
    stats.eventsByType[event.type] = (stats.eventsByType[event.type] ?? 0) + 1;
    violations.position = event.position;
    if (!isEventType(event.type)) {
      stats.unknownEventTypes++;
      continue;
    }
    try {
      parseEvent(event.type, event.schemaVersion ?? eventSchemas[event.type].schemaVersion, event.data);
    } catch (error) {
      stats.invalidEvents++;
      if (warnings.length < 100)
        warnings.push(`event ${event.id} (${event.type} at ${event.position}) fails its schema: ${String(error)}`);
    }
    const d: Raw = event.data ?? {};
    const tenantId = String(event.metadata?.tenantId ?? '');
    tenants.add(tenantId);
    try {
      switch (event.type) {
        case 'QueueJoined': {
          const k = key(tenantId, d.queueEntryId);
          if (entries.has(k)) {
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
          entries.set(k, entry);
          player(tenantId, d.userId);
          stats.queueEntries++;
          const others = otherSearching(entry);
          if (others.length > 0)
            violations.add({
              invariant: 'I1',
              code: 'TWO_SEARCHING_ENTRIES',
              detail: `user ${d.userId} joined with entry ${d.queueEntryId} while entry ${others.join(', ')} is searching`,
              tenantId,
              userId: d.userId,
              queueEntryId: d.queueEntryId,
            });
          setStatus(entry, 'searching');
          break;
        }
        case 'QueueCancelled': {
          const entry = entries.get(key(tenantId, d.queueEntryId));
          stats.cancelled++;
          if (!entry) {
            warnings.push(`QueueCancelled for unknown entry ${d.queueEntryId} at ${event.position}`);
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
          setStatus(entry, 'cancelled');
          break;
        }
        case 'QueueTimedOut': {
          const entry = entries.get(key(tenantId, d.queueEntryId));
          stats.timedOut++;
          if (!entry) {
            warnings.push(`QueueTimedOut for unknown entry ${d.queueEntryId} at ${event.position}`);
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
          setStatus(entry, 'timed_out');
          break;
        }
        case 'QueueEntryMatched': {
          stats.claims++;
          const entry = entries.get(key(tenantId, d.queueEntryId));
          const mk = key(tenantId, d.matchId);
          const set = claimsOfMatch.get(mk) ?? new Set<string>();
          set.add(key(tenantId, d.queueEntryId));
          claimsOfMatch.set(mk, set);
          if (!entry) {
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
          beginLiveMatch(tenantId, entry.userId, d.matchId);
          entry.claims.push({
            matchId: d.matchId,
            released: false,
            opponentUserId: d.opponent?.userId,
            opponentEntryId: d.opponent?.queueEntryId ?? null,
          });
          entry.matchId = d.matchId;
          setStatus(entry, 'claimed');
          break;
        }
        case 'QueueEntryReleased': {
          stats.releases++;
          const entry = entries.get(key(tenantId, d.queueEntryId));
          if (!entry) {
            warnings.push(`QueueEntryReleased for unknown entry ${d.queueEntryId} at ${event.position}`);
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
          player(tenantId, entry.userId).liveMatches.delete(d.matchId);
          const others = otherSearching(entry);
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
          setStatus(entry, 'searching');
          break;
        }
        case 'ChallengeMatchClaimed': {
          stats.claims++;
          beginLiveMatch(tenantId, d.userId, d.matchId);
          const mk = key(tenantId, d.matchId);
          const set = challengeClaims.get(mk) ?? new Set<string>();
          set.add(d.userId);
          challengeClaims.set(mk, set);
          if (d.heldQueueEntryId) {
            const entry = entries.get(key(tenantId, d.heldQueueEntryId));
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
              setStatus(entry, 'held');
            }
          }
          break;
        }
        case 'ChallengeMatchReleased': {
          stats.releases++;
          player(tenantId, d.userId).liveMatches.delete(d.matchId);
          for (const entry of entries.values())
            if (
              entry.tenantId === tenantId &&
              entry.userId === d.userId &&
              entry.status === 'held' &&
              entry.matchId === d.matchId
            ) {
              entry.matchId = null;
              setStatus(entry, 'searching');
            }
          break;
        }
        case 'QueueEntryGameStarted': {
          const p = player(tenantId, d.userId);
          const match = matches.get(key(tenantId, d.matchId));
          const ids = { tenantId, userId: d.userId, matchId: d.matchId };
          if (!p.liveMatches.has(d.matchId))
            violations.add({
              invariant: 'I5',
              code: 'GAME_START_OUTSIDE_LIVE_MATCH',
              detail: `game ${d.gameId} started for user ${d.userId} in match ${d.matchId}, which is not their live match`,
              ...ids,
            });
          if (!match || match.gameId === null)
            violations.add({
              invariant: 'I5',
              code: 'GAME_START_BEFORE_GAME_CREATED',
              detail: `player stream records game ${d.gameId} of match ${d.matchId} before/without its GameCreated`,
              ...ids,
            });
          else if (match.gameId !== d.gameId)
            violations.add({
              invariant: 'I5',
              code: 'GAME_ID_MISMATCH',
              detail: `player stream records game ${d.gameId}, match ${d.matchId} created game ${match.gameId}`,
              ...ids,
            });
          if (match?.aborted)
            violations.add({
              invariant: 'I5',
              code: 'GAME_START_OF_ABORTED_MATCH',
              detail: `game started for aborted match ${d.matchId}`,
              ...ids,
            });
          match?.started.add(d.userId);
          p.liveMatches.delete(d.matchId);
          if (d.queueEntryId) {
            const entry = entries.get(key(tenantId, d.queueEntryId));
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
              setStatus(entry, 'started');
            }
          }
          break;
        }
        case 'MatchCreated': {
          stats.matches++;
          const mk = key(tenantId, d.matchId);
          if (matches.has(mk)) {
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
          };
          matches.set(mk, match);
          if (match.source === 'queue') stats.queueMatches++;
          else stats.challengeMatches++;
          for (const s of [match.white, match.black]) {
            const uk = key(tenantId, s.userId);
            const open = openMatchesOfUser.get(uk) ?? new Set<string>();
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
            openMatchesOfUser.set(uk, open);
          }
          checkMatchDecision(match, d, { entries, challenges, violations, options });
          break;
        }
        case 'GameCreated': {
          stats.gamesCreated++;
          const match = matches.get(key(tenantId, d.matchId));
          if (!match) {
            violations.add({
              invariant: 'I5',
              code: 'GAME_FOR_UNKNOWN_MATCH',
              detail: `GameCreated ${d.gameId} for match ${d.matchId} that was never created`,
              tenantId,
              matchId: d.matchId,
            });
            break;
          }
          if (match.aborted)
            violations.add({
              invariant: 'I5',
              code: 'GAME_AFTER_ABORT',
              detail: `match ${d.matchId} got game ${d.gameId} after MatchAborted (${match.aborted.reason})`,
              tenantId,
              matchId: d.matchId,
            });
          if (match.gameId !== null && match.gameId !== d.gameId)
            violations.add({
              invariant: 'I2',
              code: 'TWO_GAMES_FOR_MATCH',
              detail: `match ${d.matchId} got game ${d.gameId} after game ${match.gameId}`,
              tenantId,
              matchId: d.matchId,
            });
          match.gameId ??= d.gameId;
          endOpenMatch(openMatchesOfUser, match);
          break;
        }
        case 'MatchAborted': {
          stats.matchesAborted++;
          const match = matches.get(key(tenantId, d.matchId));
          if (!match) {
            violations.add({
              invariant: 'I5',
              code: 'ABORT_OF_UNKNOWN_MATCH',
              detail: `MatchAborted for match ${d.matchId} that was never created`,
              tenantId,
              matchId: d.matchId,
            });
            break;
          }
          if (match.gameId !== null)
            violations.add({
              invariant: 'I5',
              code: 'ABORT_AFTER_GAME',
              detail: `match ${d.matchId} aborted (${d.reason}) after game ${match.gameId} was created`,
              tenantId,
              matchId: d.matchId,
            });
          match.aborted ??= { reason: d.reason };
          endOpenMatch(openMatchesOfUser, match);
          break;
        }
        case 'ChallengeIssued': {
          challenges.set(key(tenantId, d.challengeId), {
            challengerId: d.challengerId,
            opponentId: d.opponentId,
            poolKey: `${d.timeControl}:${d.mode}`,
          });
          break;
        }
        default:
          break;
      }
    } catch (error) {
      warnings.push(`could not audit event ${event.id} (${event.type} at ${event.position}): ${String(error)}`);
    }
  }

  violations.position = undefined;
  checkAtEnd({ entries, matches, players, claimsOfMatch, challengeClaims, violations, stats, options });
  stats.tenants = tenants.size;
  stats.players = players.size;
  return { ok: violations.list.length === 0, violations: violations.list, stats, warnings };
}

function endOpenMatch(openMatchesOfUser: Map<string, Set<string>>, match: MatchState) {
  for (const s of [match.white, match.black])
    openMatchesOfUser.get(key(match.tenantId, s.userId))?.delete(match.matchId);
}

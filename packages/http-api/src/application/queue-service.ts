import { randomUUID } from 'node:crypto';
import { type ActiveMatchmakingResponse, type JoinQueueRequest, makePool, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import type { RatingProvider } from '@mm/integrations';
import type { QueueQueries, QueueViewReader } from '@mm/projections';
import { optional } from '../errors/command-outcome.js';
import { type EntryView, entryViewFromRow, entryViewFromStream, type LiveFigures } from '../routes/queue-entry-view.js';
import type { Admission } from './admission.js';
import type { Caller } from './caller.js';
import type { PlayerCommands } from './player-commands.js';

const MEDIAN_WAIT_CACHE_MS = 5000;
const RECENT_GAME_MS = 5 * 60_000;

/** Live figures of a searching entry, and whether some could not be read (then they are null). */
export interface Live {
  figures: LiveFigures | undefined;
  unavailable: boolean;
}

/** An entry as a use case answers it. */
export interface EntryAnswer {
  entry: EntryView;
  live: Live;
}

/** The queue's use cases: join, cancel, an entry's status, the caller's active entry and match. */
export interface QueueService {
  join(caller: Caller, request: JoinQueueRequest, now: Date): Promise<EntryAnswer>;
  cancel(caller: Caller, queueEntryId: string, now: Date): Promise<EntryView>;
  /** The caller's entry, or null if it has no such entry. */
  entry(caller: Caller, queueEntryId: string, now: Date): Promise<EntryAnswer | null>;
  active(caller: Caller, now: Date): Promise<{ entry: EntryAnswer | null; match: ActiveMatchmakingResponse['match'] }>;
}

export interface QueueServiceDependencies {
  store: EventStore;
  players: PlayerCommands;
  admission: Admission;
  ratings: RatingProvider;
  queries: QueueQueries;
  queueViews: QueueViewReader;
}

export function createQueueService(deps: QueueServiceDependencies): QueueService {
  /** A pool's recent median wait, recomputed at most every few seconds (it is a statistic, not a fact). */
  const medianCache = new Map<string, { at: number; value: Promise<number | null> }>();
  const recentMedianWait = (tenantId: string, poolKey: string, now: Date): Promise<number | null> => {
    const key = `${tenantId}\u0000${poolKey}`;
    const hit = medianCache.get(key);
    if (hit && now.getTime() - hit.at < MEDIAN_WAIT_CACHE_MS) return hit.value;
    const value = deps.queries.recentMedianWaitSeconds(tenantId, poolKey, now);
    value.catch(() => medianCache.delete(key));
    if (medianCache.size > 10_000) medianCache.clear();
    medianCache.set(key, { at: now.getTime(), value });
    return value;
  };

  /**
   * Live figures of a searching entry: place in its pool (Redis views), and the wait still
   * expected (read models). They are a courtesy, not the answer: when Redis or the read models
   * are away they are null and `unavailable` says so, so a command that was applied is never
   * reported as failed because of them. The reads start when this is called; the returned
   * function waits for them and answers for the entry (a join starts them beside its command:
   * one round trip less before its answer).
   */
  const startLiveFigures = (caller: Caller, poolKey: string, queueEntryId: string, now: Date) => {
    const tenantId = caller.principal.tenantId;
    const failures: unknown[] = [];
    // Settled at once (never an unhandled rejection if the command fails first); a failure that
    // is not "away" is thrown when the figures are asked for, as before.
    const settled = <T>(read: () => Promise<T>) =>
      optional(read, (error) => failures.push(error)).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const position = settled(() => deps.queueViews.position(tenantId, poolKey, queueEntryId));
    const median = settled(() => recentMedianWait(tenantId, poolKey, now));
    return async (entry: EntryView): Promise<Live> => {
      const [p, m] = await Promise.all([position, median]);
      if (entry.status !== 'SEARCHING') return { figures: undefined, unavailable: false };
      if (!p.ok) throw p.error;
      if (!m.ok) throw m.error;
      for (const error of failures) caller.log.warn({ err: error }, 'live figures unavailable: answered without them');
      const waited = (now.getTime() - entry.enqueuedAt.getTime()) / 1000;
      return {
        figures: {
          positionEstimate: p.value,
          estimatedWaitSeconds: m.value === null ? null : Math.max(0, Math.round((m.value - waited) * 10) / 10),
        },
        unavailable: failures.length > 0,
      };
    };
  };

  const liveFigures = async (caller: Caller, entry: EntryView, now: Date): Promise<Live> =>
    entry.status === 'SEARCHING'
      ? startLiveFigures(caller, entry.poolKey, entry.queueEntryId, now)(entry)
      : { figures: undefined, unavailable: false };

  const answer = async (caller: Caller, entry: EntryView, now: Date): Promise<EntryAnswer> => ({
    entry,
    live: await liveFigures(caller, entry, now),
  });

  return {
    async join(caller, request, now) {
      deps.admission.offeredPool(request.time_control);
      const pool = makePool(request.time_control, request.mode);
      const { tenantId, userId } = caller.principal;
      // Both upstream calls at once (one round trip of latency instead of two); a failure of
      // either is reported as before, the active-game answer first.
      const [active, rating] = await Promise.allSettled([
        deps.admission.noActiveGame(caller, [userId]),
        deps.ratings.ratingFor({ tenantId, userId, pool: pool.key }),
      ]);
      if (active.status === 'rejected') throw active.reason;
      if (rating.status === 'rejected') deps.admission.ratingFailure(rating.reason);
      const queueEntryId = randomUUID();
      const figures = startLiveFigures(caller, pool.key, queueEntryId, now);
      const state = await deps.players.handle(
        caller,
        {
          type: 'JoinQueue',
          userId,
          queueEntryId,
          pool,
          rating: rating.value.rating,
          ratingSource: rating.value.source,
          ratingRange: request.rating_range ?? null,
          now: now.toISOString(),
        },
        // The entry id is this request's own: if it is on the stream, the join was applied.
        (after) => after.entries[queueEntryId] !== undefined,
      );
      const entry = entryViewFromStream(userId, state.entries[queueEntryId]!);
      return { entry, live: await figures(entry) };
    },

    async cancel(caller, queueEntryId, now) {
      const { userId } = caller.principal;
      const state = await deps.players.handle(
        caller,
        { type: 'CancelQueueEntry', userId, queueEntryId, now: now.toISOString() },
        // Cancelled by the user now: the cancel was applied (by this request or an earlier one).
        (after) => {
          const entry = after.entries[queueEntryId];
          return entry?.status === 'cancelled' && entry.cancelReason === 'user';
        },
      );
      return entryViewFromStream(userId, state.entries[queueEntryId]!);
    },

    /**
     * The caller's entry from the read model when it has caught up with the caller's stream
     * (its checkpoint is at or past the stream's last event); otherwise from the stream
     * itself, so a client never sees a stale status or a 404 for its own entry.
     */
    async entry(caller, queueEntryId, now) {
      const { tenantId, userId } = caller.principal;
      const stream = playerStream(tenantId, userId);
      // The checkpoint is read before the row, so the row is at least as new as the checkpoint.
      // The read models are only a shortcut: when they are away, the stream answers.
      const [last, checkpoint] = await Promise.all([
        deps.store.readStream(stream, { direction: 'backwards', maxCount: 1 }),
        optional(() => deps.queries.checkpoint()),
      ]);
      const row = checkpoint === null ? null : await optional(() => deps.queries.entry(tenantId, queueEntryId));
      if (row && row.userId !== userId) return null;
      if (row && checkpoint !== null && (last.length === 0 || checkpoint >= last[0]!.position))
        return answer(caller, entryViewFromRow(row), now);
      const { state } = await loadState(deps.store, stream, playerDecider);
      const entry = state.entries[queueEntryId];
      return entry ? answer(caller, entryViewFromStream(userId, entry), now) : null;
    },

    async active(caller, now) {
      const { tenantId, userId } = caller.principal;
      const { state } = await deps.players.load(caller);
      let entry: EntryAnswer | null = null;
      const activeEntry = state.activeEntryId ? state.entries[state.activeEntryId] : undefined;
      if (activeEntry) {
        const row = await optional(() => deps.queries.entry(tenantId, activeEntry.queueEntryId));
        entry = await answer(caller, row ? entryViewFromRow(row) : entryViewFromStream(userId, activeEntry), now);
      }
      const live = state.liveMatch;
      if (live) {
        // The stream knows the match; the read model adds its game and colours (null while it is away).
        const match = await optional(() => deps.queries.match(tenantId, live.matchId));
        return {
          entry,
          match: {
            match_id: live.matchId,
            game_id: match?.gameId ?? null,
            colour: match ? (match.whiteUserId === userId ? 'white' : 'black') : null,
            opponent_id: live.opponentId,
            status: match?.status === 'GAME_CREATED' ? 'GAME_CREATED' : 'CREATING_GAME',
          } as ActiveMatchmakingResponse['match'],
        };
      }
      if (activeEntry) return { entry, match: null };
      // A client polling /active after its entry was matched still learns its game: the newest
      // match whose game was created in the last RECENT_GAME_MS (the game itself lives in live-game-api).
      const recent = await optional(() => deps.queries.latestMatchOf(tenantId, userId));
      if (recent?.status === 'GAME_CREATED' && now.getTime() - new Date(recent.decidedAt).getTime() < RECENT_GAME_MS) {
        const white = recent.whiteUserId === userId;
        return {
          entry,
          match: {
            match_id: recent.matchId,
            game_id: recent.gameId,
            colour: white ? 'white' : 'black',
            opponent_id: white ? recent.blackUserId : recent.whiteUserId,
            status: 'GAME_CREATED',
          },
        };
      }
      return { entry, match: null };
    },
  };
}

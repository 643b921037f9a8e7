import { randomUUID } from 'node:crypto';
import { pairingSettings } from '@mm/config';
import { type ActiveMatchmakingResponse, JoinQueueRequest, makePool, playerStream } from '@mm/contracts';
import { type HandleCommandResult, handleCommand, loadState, type PlayerState, playerDecider } from '@mm/domain';
import type { CurrentRevision, EventMetadata } from '@mm/event-store';
import { RatingUnavailableError, UpstreamError } from '@mm/integrations';
import type { PairingConfig } from '@mm/pairing';
import { type Request, type Response, Router } from 'express';
import type { Principal } from '../auth/authenticator.js';
import type { ApiDependencies } from '../dependencies.js';
import { optional, runConfirmed, unavailableOrThrow } from '../errors/command-outcome.js';
import { domainProblem } from '../errors/domain-problems.js';
import { ProblemError, problems } from '../errors/problem.js';
import { principalOf } from '../middleware/auth.js';
import { parseOr400 } from '../middleware/validate.js';
import {
  type EntryView,
  entryViewFromRow,
  entryViewFromStream,
  type LiveFigures,
  queueEntryBody,
} from './queue-entry-view.js';

const ENTRY_ID = /^[\w-]{1,100}$/;
const MEDIAN_WAIT_CACHE_MS = 5000;
const RECENT_GAME_MS = 5 * 60_000;
/** Set on a queue-entry answer whose live figures (position, estimated wait) could not be read: they are null. */
export const LIVE_FIGURES_HEADER = 'Matchmaking-Live-Figures';

export const commandMetadata = (req: Request, principal: Principal): EventMetadata => ({
  tenantId: principal.tenantId,
  correlationId: String(req.id),
  causationId: null,
  actor: { type: 'user', id: principal.userId },
});

/**
 * The player's queue: join, cancel, status, active. Commands go through the player
 * decider on the player's stream; queries read the read models (and fall back to the
 * stream while the projector has not caught up).
 */
export function queueRoutes(deps: ApiDependencies): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());
  const pairing: PairingConfig = pairingSettings(deps.config);
  const pools = new Set(deps.config.POOLS);

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
   * are away they are null and the response says so (header {@link LIVE_FIGURES_HEADER}), so
   * a command that was applied is never reported as failed because of them.
   */
  const liveFigures = async (
    req: Request,
    res: Response,
    principal: Principal,
    entry: EntryView,
    now: Date,
  ): Promise<LiveFigures | undefined> => {
    if (entry.status !== 'SEARCHING') return undefined;
    const unavailable = (error: unknown) => {
      res.setHeader(LIVE_FIGURES_HEADER, 'unavailable');
      req.log.warn({ err: error }, 'live figures unavailable: answered without them');
    };
    const [position, median] = await Promise.all([
      optional(() => deps.queueViews.position(principal.tenantId, entry.poolKey, entry.queueEntryId), unavailable),
      optional(() => recentMedianWait(principal.tenantId, entry.poolKey, now), unavailable),
    ]);
    const waited = (now.getTime() - entry.enqueuedAt.getTime()) / 1000;
    return {
      positionEstimate: position,
      estimatedWaitSeconds: median === null ? null : Math.max(0, Math.round((median - waited) * 10) / 10),
    };
  };

  /**
   * The caller's entry from the read model when it has caught up with the caller's stream
   * (its checkpoint is at or past the stream's last event); otherwise from the stream
   * itself, so a client never sees a stale status or a 404 for its own entry.
   */
  const findEntry = async (principal: Principal, queueEntryId: string): Promise<EntryView | null> => {
    const stream = playerStream(principal.tenantId, principal.userId);
    // The checkpoint is read before the row, so the row is at least as new as the checkpoint.
    // The read models are only a shortcut: when they are away, the stream answers.
    const [last, checkpoint] = await Promise.all([
      deps.store.readStream(stream, { direction: 'backwards', maxCount: 1 }),
      optional(() => deps.queries.checkpoint()),
    ]);
    const row = checkpoint === null ? null : await optional(() => deps.queries.entry(principal.tenantId, queueEntryId));
    if (row && row.userId !== principal.userId) return null;
    if (row && checkpoint !== null && (last.length === 0 || checkpoint >= last[0]!.position))
      return entryViewFromRow(row);
    const { state } = await loadState(deps.store, stream, playerDecider);
    const entry = state.entries[queueEntryId];
    return entry ? entryViewFromStream(principal.userId, entry) : null;
  };

  /** A command result read back from the stream after an unknown outcome (its events are not known here). */
  const readBack = (state: PlayerState, revision: CurrentRevision): HandleCommandResult<PlayerState> => ({
    ok: true,
    events: [],
    state,
    nextExpectedRevision: revision,
  });

  const confirmedLog = (req: Request) => (applied: boolean, error: unknown) =>
    req.log.warn({ err: error, applied }, 'a backing service failed during the command: outcome read back');

  const entryIdParam = (req: Request): string => {
    const id = String(req.params.queueEntryId);
    if (!ENTRY_ID.test(id)) throw new ProblemError(404, 'QUEUE_ENTRY_NOT_FOUND', 'No such queue entry');
    return id;
  };

  router.post('/queue', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const body = parseOr400(JoinQueueRequest, req.body ?? {});
    if (!pools.has(body.time_control)) {
      throw new ProblemError(
        400,
        'UNKNOWN_POOL',
        'Unknown pool',
        `Time control ${body.time_control} is not offered; choose one of ${[...pools].join(', ')}.`,
        {
          errors: [{ path: 'time_control', message: 'not an offered time control' }],
        },
      );
    }
    const pool = makePool(body.time_control, body.mode);

    // Both upstream calls at once (one round trip of latency instead of two); a failure of
    // either is reported as before, the active-game answer first.
    const [active, rating] = await Promise.allSettled([
      deps.config.ACTIVE_GAME_CHECK
        ? deps.liveGame.activeGame(principal.tenantId, principal.userId)
        : Promise.resolve(null),
      deps.ratings.ratingFor({ tenantId: principal.tenantId, userId: principal.userId, pool: pool.key }),
    ]);
    if (active.status === 'fulfilled' && active.value) {
      throw new ProblemError(
        409,
        'ACTIVE_GAME_EXISTS',
        'An active game exists',
        `Finish game ${active.value.gameId} first.`,
        {
          game_id: active.value.gameId,
        },
      );
    }
    if (active.status === 'rejected') {
      if (!(active.reason instanceof UpstreamError)) throw active.reason;
      if (deps.config.ACTIVE_GAME_CHECK_ON_FAILURE === 'reject') {
        throw problems.unavailable('Could not check for an active game; retry shortly.');
      }
      req.log.warn(
        { err: active.reason },
        'active-game check failed: allowing the join (ACTIVE_GAME_CHECK_ON_FAILURE=allow)',
      );
    }
    if (rating.status === 'rejected') {
      if (rating.reason instanceof RatingUnavailableError)
        throw problems.unavailable('The rating service is unavailable; retry shortly.');
      throw rating.reason;
    }

    const now = clock();
    const stream = playerStream(principal.tenantId, principal.userId);
    const queueEntryId = randomUUID();
    const result = await runConfirmed(
      () =>
        handleCommand({
          store: deps.store,
          streamName: stream,
          decider: playerDecider,
          command: {
            type: 'JoinQueue',
            userId: principal.userId,
            queueEntryId,
            pool,
            rating: rating.value.rating,
            ratingSource: rating.value.source,
            ratingRange: body.rating_range ?? null,
            now: now.toISOString(),
          },
          metadata: commandMetadata(req, principal),
        }),
      // The entry id is this request's own: if it is on the stream, the join was applied.
      async () => {
        const { state, revision } = await loadState(deps.store, stream, playerDecider);
        return state.entries[queueEntryId] ? readBack(state, revision) : null;
      },
      { onConfirmed: confirmedLog(req) },
    );
    if (!result.ok) throw domainProblem(result.error);
    const entry = result.state.entries[queueEntryId]!;
    const view = entryViewFromStream(principal.userId, entry);
    const live = await liveFigures(req, res, principal, view, now);
    res
      .status(201)
      .location(`${req.baseUrl}/queue/${entry.queueEntryId}`)
      .json(queueEntryBody(view, now, pairing, live));
  });

  router.delete('/queue/:queueEntryId', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const queueEntryId = entryIdParam(req);
    const now = clock();
    const stream = playerStream(principal.tenantId, principal.userId);
    const result = await runConfirmed(
      () =>
        handleCommand({
          store: deps.store,
          streamName: stream,
          decider: playerDecider,
          command: { type: 'CancelQueueEntry', userId: principal.userId, queueEntryId, now: now.toISOString() },
          metadata: commandMetadata(req, principal),
        }),
      // Cancelled by the user now: the cancel was applied (by this request or an earlier one).
      async () => {
        const { state, revision } = await loadState(deps.store, stream, playerDecider);
        const entry = state.entries[queueEntryId];
        return entry?.status === 'cancelled' && entry.cancelReason === 'user' ? readBack(state, revision) : null;
      },
      { onConfirmed: confirmedLog(req) },
    );
    if (!result.ok) throw domainProblem(result.error);
    const entry = result.state.entries[queueEntryId]!;
    res.json(queueEntryBody(entryViewFromStream(principal.userId, entry), now, pairing));
  });

  router.get('/queue/:queueEntryId', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const now = clock();
    const entry = await findEntry(principal, entryIdParam(req)).catch(unavailableOrThrow);
    if (!entry) throw new ProblemError(404, 'QUEUE_ENTRY_NOT_FOUND', 'No such queue entry');
    const live = await liveFigures(req, res, principal, entry, now);
    res.json(queueEntryBody(entry, now, pairing, live));
  });

  router.get('/active', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const now = clock();
    const { state } = await loadState(
      deps.store,
      playerStream(principal.tenantId, principal.userId),
      playerDecider,
    ).catch(unavailableOrThrow);
    const body: ActiveMatchmakingResponse = { queue_entry: null, match: null };
    const active = state.activeEntryId ? state.entries[state.activeEntryId] : undefined;
    if (active) {
      const row = await optional(() => deps.queries.entry(principal.tenantId, active.queueEntryId));
      const view = row ? entryViewFromRow(row) : entryViewFromStream(principal.userId, active);
      body.queue_entry = queueEntryBody(view, now, pairing, await liveFigures(req, res, principal, view, now));
    }
    const live = state.liveMatch;
    if (live) {
      // The stream knows the match; the read model adds its game and colours (null while it is away).
      const match = await optional(() => deps.queries.match(principal.tenantId, live.matchId));
      body.match = {
        match_id: live.matchId,
        game_id: match?.gameId ?? null,
        colour: match ? (match.whiteUserId === principal.userId ? 'white' : 'black') : null,
        opponent_id: live.opponentId,
        status: match?.status === 'GAME_CREATED' ? 'GAME_CREATED' : 'CREATING_GAME',
      } as ActiveMatchmakingResponse['match'];
    } else if (!active) {
      // A client polling /active after its entry was matched still learns its game: the newest
      // match whose game was created in the last RECENT_GAME_MS (the game itself lives in live-game-api).
      const recent = await optional(() => deps.queries.latestMatchOf(principal.tenantId, principal.userId));
      if (recent?.status === 'GAME_CREATED' && now.getTime() - new Date(recent.decidedAt).getTime() < RECENT_GAME_MS) {
        const white = recent.whiteUserId === principal.userId;
        body.match = {
          match_id: recent.matchId,
          game_id: recent.gameId,
          colour: white ? 'white' : 'black',
          opponent_id: white ? recent.blackUserId : recent.whiteUserId,
          status: 'GAME_CREATED',
        };
      }
    }
    res.json(body);
  });

  return router;
}

import { randomUUID } from 'node:crypto';
import {
  type ChallengeIssuedData,
  type ChallengeListResponse,
  type ChallengeResponse,
  CreateChallengeRequest,
  challengeStream,
  DeclineChallengeRequest,
  makePool,
} from '@mm/contracts';
import {
  acceptChallenge,
  type ChallengeState,
  challengeDecider,
  challengeMatchId,
  endChallenge,
  issueChallenge,
  loadState,
} from '@mm/domain';
import { RatingUnavailableError, UpstreamError } from '@mm/integrations';
import { type ChallengeQueries, createChallengeQueries } from '@mm/projections';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Principal } from '../auth/authenticator.js';
import type { ApiDependencies } from '../dependencies.js';
import { optional, readAfterApplied, runConfirmed, unavailableOrThrow } from '../errors/command-outcome.js';
import { domainProblem } from '../errors/domain-problems.js';
import { ProblemError, problems } from '../errors/problem.js';
import { principalOf } from '../middleware/auth.js';
import { parseOr400 } from '../middleware/validate.js';
import { challengeBodyFromRow, challengeBodyFromState, decodeCursor, encodeCursor } from './challenges-view.js';
import { commandMetadata } from './queue.js';

const CHALLENGE_ID = /^[\w-]{1,100}$/;

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
});

const notFound = (challengeId: string) =>
  domainProblem({ code: 'CHALLENGE_NOT_FOUND', message: `challenge ${challengeId} not found` });

interface LoadedChallenge {
  challenge: ChallengeIssuedData;
  state: ChallengeState;
}

/**
 * Direct challenges: issue, accept, decline, cancel, and the lists. Commands run the
 * challenge flows of `@mm/domain` (player streams + the challenge stream); queries read
 * the `challenges` read model and fall back to the challenge stream while it lags.
 */
export function challengeRoutes(deps: ApiDependencies): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());
  const pools = new Set(deps.config.POOLS);
  const queries: ChallengeQueries = deps.challengeQueries ?? createChallengeQueries(deps.db, deps.readModelSchema);

  const idParam = (req: Request): string => {
    const id = String(req.params.challengeId);
    if (!CHALLENGE_ID.test(id)) throw notFound(id);
    return id;
  };

  /**
   * The challenge as its stream has it, if it belongs to the caller's tenant. Challenge
   * streams are named by id only, so the tenant is checked against the issue's metadata:
   * a user of another tenant with the same user id must not see or answer it.
   */
  const loadChallenge = async (principal: Principal, challengeId: string): Promise<LoadedChallenge | null> => {
    const { state, events } = await loadState(deps.store, challengeStream(challengeId), challengeDecider);
    if (!state.challenge || events[0]?.metadata.tenantId !== principal.tenantId) return null;
    return { challenge: state.challenge, state };
  };

  const isParty = (principal: Principal, c: { challengerId: string; opponentId: string }) =>
    principal.userId === c.challengerId || principal.userId === c.opponentId;

  /** The body after a command: from the stream (read-your-writes), with the game id from the read model if known. */
  const bodyAfterCommand = async (principal: Principal, challengeId: string, now: Date): Promise<ChallengeResponse> => {
    // The command was applied: a blip of the store is waited out, and the read model (only a
    // game id) is left out while it is away, so the answer is never an error for a done command.
    const loaded = await readAfterApplied(() => loadChallenge(principal, challengeId));
    if (!loaded) throw notFound(challengeId);
    const row = await optional(() => queries.challenge(principal.tenantId, challengeId));
    return challengeBodyFromState(loaded.challenge, loaded.state, now, row?.gameId ?? null);
  };

  /** Confirms a challenge command whose outcome is unknown: the challenge stream shows the status it leads to. */
  const reachedStatus =
    <T>(principal: Principal, challengeId: string, status: string, value: (state: LoadedChallenge['state']) => T) =>
    async (): Promise<T | null> => {
      const loaded = await loadChallenge(principal, challengeId);
      return loaded && loaded.state.status === status ? value(loaded.state) : null;
    };
  const outcomeLog = (req: Request) => (applied: boolean, error: unknown) =>
    req.log.warn({ err: error, applied }, 'a backing service failed during the command: outcome read back');

  /** 409 ACTIVE_GAME_EXISTS if live-game-api knows an active game of either player (policy on failure as for joins). */
  const checkNoActiveGame = async (req: Request, tenantId: string, userIds: string[]) => {
    if (!deps.config.ACTIVE_GAME_CHECK) return;
    const results = await Promise.allSettled(userIds.map((userId) => deps.liveGame.activeGame(tenantId, userId)));
    for (const [index, result] of results.entries()) {
      if (result.status === 'fulfilled') {
        if (result.value)
          throw new ProblemError(
            409,
            'ACTIVE_GAME_EXISTS',
            'An active game exists',
            `User ${userIds[index]} is playing game ${result.value.gameId}.`,
            { user_id: userIds[index], game_id: result.value.gameId },
          );
        continue;
      }
      if (!(result.reason instanceof UpstreamError)) throw result.reason;
      if (deps.config.ACTIVE_GAME_CHECK_ON_FAILURE === 'reject')
        throw problems.unavailable('Could not check for an active game; retry shortly.');
      req.log.warn({ err: result.reason }, 'active-game check failed: allowing the accept (policy allow)');
    }
  };

  router.post('/challenges', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const body = parseOr400(CreateChallengeRequest, req.body ?? {});
    if (!pools.has(body.time_control)) {
      throw new ProblemError(
        400,
        'UNKNOWN_POOL',
        'Unknown time control',
        `Time control ${body.time_control} is not offered; choose one of ${[...pools].join(', ')}.`,
        { errors: [{ path: 'time_control', message: 'not an offered time control' }] },
      );
    }
    if (body.opponent_id === principal.userId)
      throw domainProblem({ code: 'CANNOT_CHALLENGE_SELF', message: 'you cannot challenge yourself' });

    const now = clock();
    const challengeId = randomUUID();
    const expiresAt = new Date(now.getTime() + deps.config.CHALLENGE_TTL_SECONDS * 1000).toISOString();
    // Scheduled first: an expiry job of a challenge never issued is a no-op, the reverse would leave it unexpired.
    await deps.challengeExpiry?.schedule(principal.tenantId, challengeId, expiresAt).catch(unavailableOrThrow);
    const input = {
      challengeId,
      challengerId: principal.userId,
      opponentId: body.opponent_id,
      timeControl: body.time_control,
      mode: body.mode,
      colour: body.color,
      message: body.message ?? null,
      expiresAt,
      maxPendingChallenges: deps.config.MAX_PENDING_CHALLENGES,
    };
    const issued = await runConfirmed(
      () =>
        issueChallenge({ store: deps.store, metadata: commandMetadata(req, principal), now: now.toISOString() }, input),
      // Issued means ChallengeIssued on the challenge stream (a slot taken without it frees itself at expiry).
      async () => ((await loadChallenge(principal, challengeId)) ? ({ ok: true } as const) : null),
      { onConfirmed: outcomeLog(req) },
    );
    if (!issued.ok) throw domainProblem(issued.error);
    const challenge: ChallengeIssuedData = { ...input, issuedAt: now.toISOString() };
    res
      .status(201)
      .location(`${req.baseUrl}/challenges/${challengeId}`)
      .json(
        challengeBodyFromState(
          challenge,
          { status: 'pending', matchId: null, declineReason: null, settledAt: null, challenge },
          now,
        ),
      );
  });

  const list = (side: 'incoming' | 'outgoing') => async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const query = parseOr400(ListQuery, req.query);
    const page = await queries[side]({
      tenantId: principal.tenantId,
      userId: principal.userId,
      now: clock(),
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor) : null,
    }).catch(unavailableOrThrow);
    const now = clock();
    const body: ChallengeListResponse = {
      items: page.items.map((row) => challengeBodyFromRow(row, now)),
      next_cursor: page.next ? encodeCursor(page.next) : null,
    };
    res.json(body);
  };
  router.get('/challenges/incoming', list('incoming'));
  router.get('/challenges/outgoing', list('outgoing'));

  router.get('/challenges/:challengeId', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const challengeId = idParam(req);
    const now = clock();
    const row = await queries.challenge(principal.tenantId, challengeId).catch(unavailableOrThrow);
    if (row && !isParty(principal, row)) throw notFound(challengeId);
    // A pending row may be behind the stream (answered a moment ago): the stream decides then.
    if (row && row.status !== 'PENDING') {
      res.json(challengeBodyFromRow(row, now));
      return;
    }
    const loaded = await loadChallenge(principal, challengeId).catch(unavailableOrThrow);
    if (!loaded || !isParty(principal, loaded.challenge)) throw notFound(challengeId);
    res.json(challengeBodyFromState(loaded.challenge, loaded.state, now, row?.gameId ?? null));
  });

  router.post('/challenges/:challengeId/accept', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const challengeId = idParam(req);
    const now = clock();
    const loaded = await loadChallenge(principal, challengeId).catch(unavailableOrThrow);
    if (!loaded) throw notFound(challengeId);
    const { challenge } = loaded;
    // 404 / 403 / 409 before asking anybody else.
    const dryRun = challengeDecider.decide(
      {
        type: 'AcceptChallenge',
        challengeId,
        userId: principal.userId,
        matchId: challengeMatchId(challengeId),
        now: now.toISOString(),
      },
      loaded.state,
    );
    if (!dryRun.ok) throw domainProblem(dryRun.error);
    const alreadyAccepted = dryRun.events.length === 0;

    const pool = makePool(challenge.timeControl, challenge.mode).key;
    const ratings = new Map<string, number>();
    if (!alreadyAccepted)
      await checkNoActiveGame(req, principal.tenantId, [challenge.challengerId, challenge.opponentId]);
    try {
      // Fetched before the commit point, so an unavailable rating service refuses the accept instead of stalling it.
      for (const userId of [challenge.challengerId, challenge.opponentId]) {
        const rating = await deps.ratings.ratingFor({ tenantId: principal.tenantId, userId, pool });
        ratings.set(userId, rating.rating);
      }
    } catch (error) {
      if (error instanceof RatingUnavailableError)
        throw problems.unavailable('The rating service is unavailable; retry shortly.');
      throw error;
    }

    const accepted = await runConfirmed(
      () =>
        acceptChallenge(
          {
            store: deps.store,
            metadata: commandMetadata(req, principal),
            now: now.toISOString(),
            ratingOf: async (userId) => ratings.get(userId) ?? deps.config.DEFAULT_RATING,
          },
          { challengeId, acceptorId: principal.userId },
        ),
      // Accepted on the challenge stream is the commit point; the match's remaining steps are
      // re-driven by the workers (challenge expiry job, stuck-match sweep).
      reachedStatus(principal, challengeId, 'accepted', (state) => ({ ok: true, matchId: state.matchId! }) as const),
      { onConfirmed: outcomeLog(req) },
    );
    if (!accepted.ok) throw domainProblem(accepted.error);

    if (deps.gameCreation) {
      // Best effort: the workers' scheduler re-drives every match still creating its game.
      await deps.gameCreation
        .request(principal.tenantId, accepted.matchId)
        .catch((error: unknown) =>
          req.log.warn({ err: error, matchId: accepted.matchId }, 'could not enqueue game creation'),
        );
    }
    res.json(await bodyAfterCommand(principal, challengeId, now));
  });

  router.post('/challenges/:challengeId/decline', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const challengeId = idParam(req);
    const body = parseOr400(DeclineChallengeRequest, req.body ?? {});
    const now = clock();
    if (!(await loadChallenge(principal, challengeId).catch(unavailableOrThrow))) throw notFound(challengeId);
    const declined = await runConfirmed(
      () =>
        endChallenge(
          { store: deps.store, metadata: commandMetadata(req, principal), now: now.toISOString() },
          {
            type: 'DeclineChallenge',
            challengeId,
            userId: principal.userId,
            reason: body.reason ?? 'generic',
            now: now.toISOString(),
          },
        ),
      reachedStatus(principal, challengeId, 'declined', () => ({ ok: true }) as const),
      { onConfirmed: outcomeLog(req) },
    );
    if (!declined.ok) throw domainProblem(declined.error);
    res.json(await bodyAfterCommand(principal, challengeId, now));
  });

  router.post('/challenges/:challengeId/cancel', async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const challengeId = idParam(req);
    parseOr400(z.strictObject({}), req.body ?? {});
    const now = clock();
    if (!(await loadChallenge(principal, challengeId).catch(unavailableOrThrow))) throw notFound(challengeId);
    const cancelled = await runConfirmed(
      () =>
        endChallenge(
          { store: deps.store, metadata: commandMetadata(req, principal), now: now.toISOString() },
          {
            type: 'CancelChallenge',
            challengeId,
            userId: principal.userId,
            reason: 'challenger',
            now: now.toISOString(),
          },
        ),
      reachedStatus(principal, challengeId, 'cancelled', () => ({ ok: true }) as const),
      { onConfirmed: outcomeLog(req) },
    );
    if (!cancelled.ok) throw domainProblem(cancelled.error);
    res.json(await bodyAfterCommand(principal, challengeId, now));
  });

  return router;
}

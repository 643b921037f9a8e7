import { randomUUID } from 'node:crypto';
import {
  type ChallengeIssuedData,
  type ChallengeListResponse,
  type ChallengeResponse,
  type CreateChallengeRequest,
  challengeStream,
  type DeclineReason,
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
import type { EventStore } from '@mm/event-store';
import type { RatingProvider } from '@mm/integrations';
import type { ChallengeQueries } from '@mm/projections';
import { optional, readAfterApplied, runConfirmed } from '../errors/command-outcome.js';
import { domainProblem } from '../errors/domain-problems.js';
import { challengeBodyFromRow, challengeBodyFromState, decodeCursor, encodeCursor } from '../routes/challenges-view.js';
import type { Admission } from './admission.js';
import { type Caller, commandMetadata } from './caller.js';

interface LoadedChallenge {
  challenge: ChallengeIssuedData;
  state: ChallengeState;
}

export interface ChallengeServiceDependencies {
  store: EventStore;
  admission: Admission;
  ratings: RatingProvider;
  queries: ChallengeQueries;
  /** Schedules a challenge's expiry job; unset = none (see `ApiDependencies.challengeExpiry`). */
  challengeExpiry?: { schedule(tenantId: string, challengeId: string, expiresAt: string): Promise<void> };
  /** Asks the workers to create the game of an accepted challenge's match; unset = the sweep finds it. */
  gameCreation?: { request(tenantId: string, matchId: string): Promise<void> };
  ttlSeconds: number;
  maxPendingChallenges: number;
  defaultRating: number;
}

/** Direct challenges: issue, accept, decline, cancel, one challenge, the caller's lists. */
export interface ChallengeService {
  issue(caller: Caller, request: CreateChallengeRequest, now: Date): Promise<ChallengeResponse>;
  accept(caller: Caller, challengeId: string, now: Date): Promise<ChallengeResponse>;
  decline(caller: Caller, challengeId: string, reason: DeclineReason, now: Date): Promise<ChallengeResponse>;
  cancel(caller: Caller, challengeId: string, now: Date): Promise<ChallengeResponse>;
  get(caller: Caller, challengeId: string, now: Date): Promise<ChallengeResponse>;
  list(
    caller: Caller,
    side: 'incoming' | 'outgoing',
    page: { limit: number; cursor?: string | undefined },
    now: Date,
  ): Promise<ChallengeListResponse>;
}

const notFound = (challengeId: string) =>
  domainProblem({ code: 'CHALLENGE_NOT_FOUND', message: `challenge ${challengeId} not found` });

/**
 * Commands run the challenge flows of `@mm/domain` (player streams + the challenge stream);
 * queries read the `challenges` read model and fall back to the challenge stream while it lags.
 */
export function createChallengeService(deps: ChallengeServiceDependencies): ChallengeService {
  const { store, queries } = deps;

  /**
   * The challenge as its stream has it, if it belongs to the caller's tenant. Challenge
   * streams are named by id only, so the tenant is checked against the issue's metadata:
   * a user of another tenant with the same user id must not see or answer it.
   */
  const loadChallenge = async (caller: Caller, challengeId: string): Promise<LoadedChallenge | null> => {
    const { state, events } = await loadState(store, challengeStream(challengeId), challengeDecider);
    if (!state.challenge || events[0]?.metadata.tenantId !== caller.principal.tenantId) return null;
    return { challenge: state.challenge, state };
  };

  const isParty = (caller: Caller, c: { challengerId: string; opponentId: string }) =>
    caller.principal.userId === c.challengerId || caller.principal.userId === c.opponentId;

  /** The body after a command: from the stream (read-your-writes), with the game id from the read model if known. */
  const bodyAfterCommand = async (caller: Caller, challengeId: string, now: Date): Promise<ChallengeResponse> => {
    // The command was applied: a blip of the store is waited out, and the read model (only a
    // game id) is left out while it is away, so the answer is never an error for a done command.
    const loaded = await readAfterApplied(() => loadChallenge(caller, challengeId));
    if (!loaded) throw notFound(challengeId);
    const row = await optional(() => queries.challenge(caller.principal.tenantId, challengeId));
    return challengeBodyFromState(loaded.challenge, loaded.state, now, row?.gameId ?? null);
  };

  /** Confirms a challenge command whose outcome is unknown: the challenge stream shows the status it leads to. */
  const reachedStatus =
    <T>(caller: Caller, challengeId: string, status: ChallengeState['status'], value: (state: ChallengeState) => T) =>
    async (): Promise<T | null> => {
      const loaded = await loadChallenge(caller, challengeId);
      return loaded && loaded.state.status === status ? value(loaded.state) : null;
    };
  const outcomeLog = (caller: Caller) => ({
    onConfirmed: (applied: boolean, error: unknown) =>
      caller.log.warn({ err: error, applied }, 'a backing service failed during the command: outcome read back'),
  });
  const context = (caller: Caller, now: Date) => ({
    store,
    metadata: commandMetadata(caller),
    now: now.toISOString(),
  });

  const mustExist = async (caller: Caller, challengeId: string) => {
    if (!(await loadChallenge(caller, challengeId))) throw notFound(challengeId);
  };

  return {
    async issue(caller, request, now) {
      deps.admission.offeredPool(request.time_control);
      if (request.opponent_id === caller.principal.userId)
        throw domainProblem({ code: 'CANNOT_CHALLENGE_SELF', message: 'you cannot challenge yourself' });
      const challengeId = randomUUID();
      const expiresAt = new Date(now.getTime() + deps.ttlSeconds * 1000).toISOString();
      // Scheduled first: an expiry job of a challenge never issued is a no-op, the reverse would leave it unexpired.
      await deps.challengeExpiry?.schedule(caller.principal.tenantId, challengeId, expiresAt);
      const input = {
        challengeId,
        challengerId: caller.principal.userId,
        opponentId: request.opponent_id,
        timeControl: request.time_control,
        mode: request.mode,
        colour: request.color,
        message: request.message ?? null,
        expiresAt,
        maxPendingChallenges: deps.maxPendingChallenges,
      };
      const issued = await runConfirmed(
        () => issueChallenge(context(caller, now), input),
        // Issued means ChallengeIssued on the challenge stream (a slot taken without it frees itself at expiry).
        async () => ((await loadChallenge(caller, challengeId)) ? ({ ok: true } as const) : null),
        outcomeLog(caller),
      );
      if (!issued.ok) throw domainProblem(issued.error);
      const challenge: ChallengeIssuedData = { ...input, challengerColour: input.colour, issuedAt: now.toISOString() };
      return challengeBodyFromState(
        challenge,
        { status: 'pending', matchId: null, declineReason: null, settledAt: null, challenge },
        now,
      );
    },

    async accept(caller, challengeId, now) {
      const loaded = await loadChallenge(caller, challengeId);
      if (!loaded) throw notFound(challengeId);
      const { challenge } = loaded;
      // 404 / 403 / 409 before asking anybody else.
      const dryRun = challengeDecider.decide(
        {
          type: 'AcceptChallenge',
          challengeId,
          userId: caller.principal.userId,
          matchId: challengeMatchId(challengeId),
          now: now.toISOString(),
        },
        loaded.state,
      );
      if (!dryRun.ok) throw domainProblem(dryRun.error);
      const alreadyAccepted = dryRun.events.length === 0;

      const pool = makePool(challenge.timeControl, challenge.mode).key;
      const ratings = new Map<string, number>();
      if (!alreadyAccepted) await deps.admission.noActiveGame(caller, [challenge.challengerId, challenge.opponentId]);
      try {
        // Fetched before the commit point, so an unavailable rating service refuses the accept instead of stalling it.
        for (const userId of [challenge.challengerId, challenge.opponentId]) {
          const rating = await deps.ratings.ratingFor({ tenantId: caller.principal.tenantId, userId, pool });
          ratings.set(userId, rating.rating);
        }
      } catch (error) {
        deps.admission.ratingFailure(error);
      }

      const accepted = await runConfirmed(
        () =>
          acceptChallenge(
            { ...context(caller, now), ratingOf: async (userId) => ratings.get(userId) ?? deps.defaultRating },
            { challengeId, acceptorId: caller.principal.userId },
          ),
        // Accepted on the challenge stream is the commit point; the match's remaining steps are
        // re-driven by the workers (challenge expiry job, stuck-match sweep).
        reachedStatus(caller, challengeId, 'accepted', (state) => ({ ok: true, matchId: state.matchId! }) as const),
        outcomeLog(caller),
      );
      if (!accepted.ok) throw domainProblem(accepted.error);

      if (deps.gameCreation) {
        // Best effort: the workers' scheduler re-drives every match still creating its game.
        await deps.gameCreation
          .request(caller.principal.tenantId, accepted.matchId)
          .catch((error: unknown) =>
            caller.log.warn({ err: error, matchId: accepted.matchId }, 'could not enqueue game creation'),
          );
      }
      return bodyAfterCommand(caller, challengeId, now);
    },

    async decline(caller, challengeId, reason, now) {
      await mustExist(caller, challengeId);
      const declined = await runConfirmed(
        () =>
          endChallenge(context(caller, now), {
            type: 'DeclineChallenge',
            challengeId,
            userId: caller.principal.userId,
            reason,
            now: now.toISOString(),
          }),
        reachedStatus(caller, challengeId, 'declined', () => ({ ok: true }) as const),
        outcomeLog(caller),
      );
      if (!declined.ok) throw domainProblem(declined.error);
      return bodyAfterCommand(caller, challengeId, now);
    },

    async cancel(caller, challengeId, now) {
      await mustExist(caller, challengeId);
      const cancelled = await runConfirmed(
        () =>
          endChallenge(context(caller, now), {
            type: 'CancelChallenge',
            challengeId,
            userId: caller.principal.userId,
            reason: 'challenger',
            now: now.toISOString(),
          }),
        reachedStatus(caller, challengeId, 'cancelled', () => ({ ok: true }) as const),
        outcomeLog(caller),
      );
      if (!cancelled.ok) throw domainProblem(cancelled.error);
      return bodyAfterCommand(caller, challengeId, now);
    },

    async get(caller, challengeId, now) {
      const row = await queries.challenge(caller.principal.tenantId, challengeId);
      if (row && !isParty(caller, row)) throw notFound(challengeId);
      // A pending row may be behind the stream (answered a moment ago): the stream decides then.
      if (row && row.status !== 'PENDING') return challengeBodyFromRow(row, now);
      const loaded = await loadChallenge(caller, challengeId);
      if (!loaded || !isParty(caller, loaded.challenge)) throw notFound(challengeId);
      return challengeBodyFromState(loaded.challenge, loaded.state, now, row?.gameId ?? null);
    },

    async list(caller, side, page, now) {
      const found = await queries[side]({
        tenantId: caller.principal.tenantId,
        userId: caller.principal.userId,
        now,
        limit: page.limit,
        after: page.cursor ? decodeCursor(page.cursor) : null,
      });
      return {
        items: found.items.map((row) => challengeBodyFromRow(row, now)),
        next_cursor: found.next ? encodeCursor(found.next) : null,
      };
    },
  };
}

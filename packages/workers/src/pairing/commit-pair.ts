import { commitQueueMatch, type QueueMatchCommitOutcome, releaseQueueClaim } from '@mm/domain';
import type { StreamAppend } from '@mm/event-store';
import type { Pair } from '@mm/pairing';
import { enqueueGameCreation } from '@mm/redis';
import { matchFlowContext, type WorkerContext } from '../context.js';
import { buildQueueMatch } from './explanation.js';

export type CommitOutcome = QueueMatchCommitOutcome;

/**
 * The pairing job's part of committing one pair: the domain's queue match commit
 * (`commitQueueMatch`, packages/domain/src/flows/queue-match-commit.ts — both claims and
 * `MatchCreated` in one transaction where the store has it, else claims pinned to the revisions
 * read, the first released if the second fails), with the pass's explanation as the decision;
 * then, once matched, its game is started: in this process when it runs game creation
 * (`ctx.startGame`), else as a game-creation job (job id = match id).
 */
export async function commitPair(
  ctx: WorkerContext,
  /**
   * `passId`: the pass's record (`PairingPassCompleted`), carried by `MatchCreated`;
   * `alongside`: an append committed with the match where the store can (see `commitQueueMatch`).
   */
  input: {
    tenantId: string;
    poolKey: string;
    pair: Pair;
    decidedAt: number;
    passId?: string;
    alongside?: (matchId: string) => StreamAppend;
  },
): Promise<CommitOutcome> {
  const { tenantId, poolKey, pair, decidedAt, passId, alongside } = input;
  const side = (entry: Pair['a']) => ({ userId: entry.userId, queueEntryId: entry.entryId, rating: entry.rating });
  const outcome = await commitQueueMatch(matchFlowContext(ctx, tenantId), {
    a: side(pair.a),
    b: side(pair.b),
    decisionFor: (matchId) => buildQueueMatch({ matchId, poolKey, pair, decidedAt, ...(passId ? { passId } : {}) }),
    ...(alongside ? { alongside } : {}),
  });
  if (outcome.outcome === 'matched') {
    if (ctx.startGame) await ctx.startGame(tenantId, outcome.matchId, outcome.match);
    else await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId: outcome.matchId });
  }
  return outcome;
}

/** Gives a claimed entry back to the queue (no-op unless it is claimed by this match and has no game). */
export async function releaseClaim(
  ctx: WorkerContext,
  tenantId: string,
  side: { userId: string; queueEntryId: string },
  matchId: string,
): Promise<void> {
  await releaseQueueClaim(matchFlowContext(ctx, tenantId), { ...side, matchId });
}

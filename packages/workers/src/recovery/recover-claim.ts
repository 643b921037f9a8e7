import { recoverQueueClaim } from '@mm/domain';
import { enqueueGameCreation } from '@mm/redis';
import { matchFlowContext, type WorkerContext } from '../context.js';
import { settlePlayers } from '../match/match-steps.js';

export type ClaimRecovery = 'completed' | 'released' | 'settled' | 'game_pending' | 'not_claimed' | 'no_decision';

/**
 * The sweep's part of recovering a queue claim whose worker may have died between the claims
 * and `MatchCreated`: the domain's claim recovery (`recoverQueueClaim`,
 * packages/domain/src/flows/queue-claim-recovery.ts) completes or releases the pair from the
 * decision recorded on the claim; this adds what a job does around it — settling the players
 * of a match that already ended (asking live-game-api who is busy after a refusal), the
 * game-creation job of a completed or pending match, and logging.
 */
export async function recoverClaim(
  ctx: WorkerContext,
  claim: { tenantId: string; userId: string; matchId: string },
): Promise<ClaimRecovery> {
  const { tenantId, matchId } = claim;
  const recovered = await recoverQueueClaim(matchFlowContext(ctx, tenantId), { userId: claim.userId, matchId });
  switch (recovered.outcome) {
    case 'match_ended':
      await settlePlayers(ctx, tenantId, recovered.match);
      return 'settled';
    case 'game_pending':
    case 'completed':
      await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
      return recovered.outcome;
    case 'no_decision':
      // Nothing of ours writes a claim without its decision; left to an operator rather than guessed.
      ctx.logger.error({ ...claim }, 'claim without a recorded decision; not recovered');
      return 'no_decision';
    case 'released':
    case 'not_claimed':
      return recovered.outcome;
  }
}

import type { MatchCreatedData } from '@mm/contracts';
import { claimQueueEntry, type QueueClaimInput, type QueueClaimResult } from '@mm/domain';
import { matchFlowContext, type WorkerContext } from '../context.js';

export type ClaimResult = QueueClaimResult;

export interface ClaimInput extends Omit<QueueClaimInput, 'decision'> {
  tenantId: string;
  decision: MatchCreatedData;
}

/**
 * One claim of the queue match commit, pinned to a revision or not — the domain's
 * `claimQueueEntry` (packages/domain/src/flows/queue-match-commit.ts) run for a job.
 */
export async function claimEntry(ctx: WorkerContext, input: ClaimInput): Promise<ClaimResult> {
  const { tenantId, ...claim } = input;
  return claimQueueEntry(matchFlowContext(ctx, tenantId), claim);
}

import { playerStream } from '@mm/contracts';
import { decideAppend, handleCommand, loadState, playerDecider } from '@mm/domain';
import { isWrongExpectedRevision, type StreamAppend } from '@mm/event-store';
import type { Pair } from '@mm/pairing';
import { serviceMetadata, type WorkerContext } from '../context.js';
import { enqueueGameCreation } from '../games/game-creation-queue.js';
import { matchEventId, queueMatchId } from '../ids/deterministic-ids.js';
import { createMatch, createMatchAppend } from '../match/match-steps.js';
import { claimEntry } from './claim-entry.js';
import { buildQueueMatch } from './explanation.js';

export type CommitOutcome =
  /** `MatchCreated` is written (by us or by a concurrent pass with the same decision) and game creation is enqueued. */
  | { outcome: 'matched'; matchId: string }
  /** An entry was no longer searching before anything was written (stale snapshot). */
  | { outcome: 'stale' }
  /** The first claim lost (cancel, timeout or another match won the race); nothing to undo. */
  | { outcome: 'first_claim_failed'; matchId: string; code: string }
  /** The second claim lost; the first entry was released (`opponent_unavailable`). */
  | { outcome: 'second_claim_failed'; matchId: string; code: string }
  /** (one-transaction commit) A player's stream moved after it was read; nothing was written. */
  | { outcome: 'claim_conflict'; matchId: string; code: string };

/**
 * Commits one pair of a pass (ARCHITECTURE I2/I3, optimistic concurrency on the player streams).
 *
 * Where the store appends to several streams in one transaction (PostgreSQL), both claims and
 * `MatchCreated` are one append, each player stream pinned to the revision it was read at:
 * all three are written or none (a cancel, timeout or other match on either stream since the
 * read wins, and nothing needs undoing). One round trip instead of three. Otherwise
 * (EventStoreDB) claims and compensation keep the same invariants:
 *
 * 0. read both player streams; if an entry is not searching any more, skip (no writes).
 *    The match id is derived from both entry ids and both streams' revisions (`revA`, `revB`);
 * 1. claim A on A's stream at `revA` (`QueueEntryMatched`, carrying the decision). It races
 *    a cancel/timeout on the same stream: exactly one wins;
 * 2. claim B at `revB`; if that fails, release A (`QueueEntryReleased {opponent_unavailable}`,
 *    A searches again with its original enqueue time);
 * 3. `MatchCreated` on `match-<id>` with the full explanation;
 * 4. enqueue the game-creation job (job id = match id).
 *
 * Why releasing A in step 2 is final: B's claim is pinned to `revB`, and failed only because
 * B's stream moved past it, so no claim of B for this match id can ever succeed — not by a
 * concurrent pass that decided the same pair from the same revisions (same match id), not by a
 * retry. Hence `MatchCreated` (which needs both claims) is never written for a released match.
 * Every step is idempotent (deterministic event ids, deciders no-op on a repeat), so a
 * retried or stalled job converges instead of duplicating.
 */
export async function commitPair(
  ctx: WorkerContext,
  input: { tenantId: string; poolKey: string; pair: Pair; decidedAt: number },
): Promise<CommitOutcome> {
  const { tenantId, pair } = input;
  const { a, b } = pair;
  const [stateA, stateB] = await Promise.all(
    [a, b].map((entry) => loadState(ctx.store, playerStream(tenantId, entry.userId), playerDecider)),
  );
  const searching = (loaded: typeof stateA, entryId: string) =>
    loaded!.state.entries[entryId]?.status === 'searching' && loaded!.state.liveMatch === null;
  if (!searching(stateA, a.entryId) || !searching(stateB, b.entryId)) return { outcome: 'stale' };

  const revision = (loaded: typeof stateA) => (loaded!.revision === 'no_stream' ? -1 : loaded!.revision);
  const [revA, revB] = [revision(stateA), revision(stateB)];
  const matchId = queueMatchId(
    tenantId,
    { queueEntryId: a.entryId, streamRevision: revA },
    { queueEntryId: b.entryId, streamRevision: revB },
  );
  const decision = buildQueueMatch({ matchId, poolKey: input.poolKey, pair, decidedAt: input.decidedAt });
  const opponent = (e: typeof a) => ({ userId: e.userId, queueEntryId: e.entryId, rating: e.rating });

  if (ctx.store.appendToStreams) {
    const claims = [
      { side: a, loaded: stateA!, other: b },
      { side: b, loaded: stateB!, other: a },
    ].map(({ side, loaded, other }) =>
      decideAppend({
        streamName: playerStream(tenantId, side.userId),
        decider: playerDecider,
        command: {
          type: 'ClaimQueueEntry',
          userId: side.userId,
          queueEntryId: side.entryId,
          matchId,
          opponent: opponent(other),
          now: new Date(ctx.now()).toISOString(),
          decision,
        },
        loaded,
        metadata: serviceMetadata(tenantId, matchId),
        eventIds: () => matchEventId(matchId, 'claimed', side.entryId),
      }),
    );
    for (const claim of claims) {
      if (!claim.ok) return { outcome: 'first_claim_failed', matchId, code: claim.error.code };
      if (!claim.append) throw new Error(`claim of a searching entry decided nothing (match ${matchId})`);
    }
    const created = createMatchAppend(tenantId, decision);
    try {
      await ctx.store.appendToStreams([...claims.map((claim) => (claim as { append: StreamAppend }).append), created]);
    } catch (error) {
      if (!isWrongExpectedRevision(error)) throw error;
      return { outcome: 'claim_conflict', matchId, code: 'STREAM_MOVED' };
    }
    await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
    return { outcome: 'matched', matchId };
  }

  const first = await claimEntry(ctx, {
    tenantId,
    userId: a.userId,
    queueEntryId: a.entryId,
    decision,
    opponent: opponent(b),
    atRevision: revA,
    loaded: stateA,
  });
  if (!first.ok) return { outcome: 'first_claim_failed', matchId, code: first.code };

  const second = await claimEntry(ctx, {
    tenantId,
    userId: b.userId,
    queueEntryId: b.entryId,
    decision,
    opponent: opponent(a),
    atRevision: revB,
    loaded: stateB,
  });
  if (!second.ok) {
    await releaseClaim(ctx, tenantId, { userId: a.userId, queueEntryId: a.entryId }, matchId);
    return { outcome: 'second_claim_failed', matchId, code: second.code };
  }

  await createMatch(ctx, tenantId, decision);
  await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
  return { outcome: 'matched', matchId };
}

/** Gives a claimed entry back to the queue (no-op unless it is claimed by this match and has no game). */
export async function releaseClaim(
  ctx: WorkerContext,
  tenantId: string,
  side: { userId: string; queueEntryId: string },
  matchId: string,
): Promise<void> {
  await handleCommand({
    store: ctx.store,
    streamName: playerStream(tenantId, side.userId),
    decider: playerDecider,
    command: {
      type: 'ReleaseQueueEntry',
      userId: side.userId,
      queueEntryId: side.queueEntryId,
      matchId,
      reason: 'opponent_unavailable',
      now: new Date(ctx.now()).toISOString(),
    },
    metadata: serviceMetadata(tenantId, matchId),
    eventIds: () => matchEventId(matchId, 'released', side.userId),
  });
}

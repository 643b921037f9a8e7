import { type MatchCreatedData, playerStream } from '@mm/contracts';
import { handleCommand, loadState, playerDecider } from '@mm/domain';
import type { Pair } from '@mm/pairing';
import { serviceMetadata, type WorkerContext } from '../context.js';
import { enqueueGameCreation } from '../games/game-creation-queue.js';
import { matchEventId, queueMatchId } from '../ids/deterministic-ids.js';
import { abortMatch, createMatch, releasePlayers } from '../match/match-steps.js';
import { buildQueueMatch } from './explanation.js';

export type CommitOutcome =
  /** `MatchCreated` is written (by us or by a concurrent pass of the same decision) and game creation is enqueued. */
  | { outcome: 'matched'; matchId: string }
  /** An entry was no longer searching before anything was written (stale snapshot). */
  | { outcome: 'stale' }
  /** The first claim lost (cancel, timeout or another match won the race); nothing to undo. */
  | { outcome: 'first_claim_failed'; matchId: string; code: string }
  /** The second claim lost; the match was aborted (`player_unavailable`) and the first entry released. */
  | { outcome: 'second_claim_failed'; matchId: string; code: string }
  /** The match was already aborted by someone else (a concurrent pass or the recovery sweep); our claims were released. */
  | { outcome: 'aborted'; matchId: string };

/**
 * Commits one pair of a pass (ARCHITECTURE I2/I3, optimistic concurrency on the player streams):
 *
 * 0. read both player streams; if an entry is not searching any more, skip (no writes).
 *    The match id is derived from both entry ids and both streams' revisions;
 * 1. claim A on A's stream (`ClaimQueueEntry` → `QueueEntryMatched`, carrying the decision).
 *    It races a cancel/timeout on the same stream: exactly one wins;
 * 2. claim B; if it fails: `MatchCreated` + `MatchAborted {player_unavailable}` on the
 *    match stream, then release A (`QueueEntryReleased {opponent_unavailable}`);
 * 3. `MatchCreated` with the full explanation; if the match stream says aborted (the
 *    recovery sweep or a concurrent pass gave up on it), release both instead;
 * 4. enqueue the game-creation job (job id = match id).
 *
 * Releasing only after `MatchAborted` is what makes a concurrent pass with the same
 * decision, or the recovery sweep, safe: neither can write `MatchCreated` for a match
 * whose claims have been given back. Every step is idempotent, so re-running the whole
 * commit (a retried or stalled job) converges instead of duplicating.
 */
export async function commitPair(
  ctx: WorkerContext,
  input: { tenantId: string; poolKey: string; pair: Pair; decidedAt: number },
): Promise<CommitOutcome> {
  const { tenantId, pair } = input;
  const [a, b] = [pair.a, pair.b];
  const [stateA, stateB] = await Promise.all(
    [a, b].map((entry) => loadState(ctx.store, playerStream(tenantId, entry.userId), playerDecider)),
  );
  const searching = (loaded: typeof stateA, entryId: string) =>
    loaded!.state.entries[entryId]?.status === 'searching' && loaded!.state.liveMatch === null;
  if (!searching(stateA, a.entryId) || !searching(stateB, b.entryId)) return { outcome: 'stale' };

  const revision = (loaded: typeof stateA) => (loaded!.revision === 'no_stream' ? -1 : loaded!.revision);
  const matchId = queueMatchId(
    tenantId,
    { queueEntryId: a.entryId, streamRevision: revision(stateA) },
    { queueEntryId: b.entryId, streamRevision: revision(stateB) },
  );
  const decision = buildQueueMatch({ matchId, poolKey: input.poolKey, pair, decidedAt: input.decidedAt });

  const claim = (self: typeof a, other: typeof a) =>
    handleCommand({
      store: ctx.store,
      streamName: playerStream(tenantId, self.userId),
      decider: playerDecider,
      command: {
        type: 'ClaimQueueEntry',
        userId: self.userId,
        queueEntryId: self.entryId,
        matchId,
        opponent: { userId: other.userId, queueEntryId: other.entryId, rating: other.rating },
        now: new Date(ctx.now()).toISOString(),
        decision,
      },
      metadata: serviceMetadata(tenantId, matchId),
      eventIds: () => matchEventId(matchId, 'claimed', self.entryId),
    });

  const first = await claim(a, b);
  if (!first.ok) return { outcome: 'first_claim_failed', matchId, code: first.error.code };

  const second = await claim(b, a);
  if (!second.ok) {
    await abandonMatch(ctx, tenantId, decision);
    return { outcome: 'second_claim_failed', matchId, code: second.error.code };
  }

  const state = await createMatch(ctx, tenantId, decision);
  if (state.status === 'aborted') {
    await releasePlayers(ctx, tenantId, state.match ?? decision, state.abortReason);
    return { outcome: 'aborted', matchId };
  }
  await enqueueGameCreation(ctx.gameCreationQueue, ctx.config, { tenantId, matchId });
  return { outcome: 'matched', matchId };
}

/**
 * Gives up on a decided match whose claims cannot all stand: fences the match stream
 * (`MatchCreated` then `MatchAborted {player_unavailable}`), then releases whatever was
 * claimed. If the match already got its game (it cannot without both claims, but the
 * stream is the judge), nothing is released.
 */
export async function abandonMatch(ctx: WorkerContext, tenantId: string, decision: MatchCreatedData): Promise<void> {
  const created = await createMatch(ctx, tenantId, decision);
  const state =
    created.status === 'created'
      ? await abortMatch(ctx, tenantId, decision.matchId, {
          reason: 'player_unavailable',
          attempts: 0,
          detail: 'a player could not be claimed',
        })
      : created;
  if (state.status === 'aborted') await releasePlayers(ctx, tenantId, state.match ?? decision, state.abortReason);
}

import { type MatchCreatedData, matchStream, playerStream } from '@mm/contracts';
import type { AppendResult, StreamAppend } from '@mm/event-store';
import { isWrongExpectedRevision } from '@mm/event-store';
import { decideAppend, handleCommand } from '../command-handling/handle-command.js';
import { type LoadedState, loadState, rememberState } from '../command-handling/load-state.js';
import { matchEventId, queueMatchId } from '../ids/deterministic-ids.js';
import { type MatchState, matchDecider } from '../match/match-decider.js';
import type { ClaimQueueEntry } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import type { PlayerState } from '../player/player-state.js';
import { type MatchFlowContext, matchMetadata } from './match-flow-context.js';

/** One side of a queue pair as the pass proposed it. */
export interface QueuePairSide {
  userId: string;
  queueEntryId: string;
  rating: number;
}

export type QueueMatchCommitOutcome =
  /**
   * `MatchCreated` is written (by this run or by a concurrent one with the same decision).
   * `match`: the match stream as this run's commit left it (one-transaction commit only), so
   * the next step (game creation) can decide on it without reading the stream; a stale one
   * makes that step's append conflict, and it reads then. `alongside`: the caller's `alongside`
   * append was committed in the same transaction (one-transaction commit only).
   */
  | { outcome: 'matched'; matchId: string; match?: { state: MatchState; revision: number }; alongside?: true }
  /** An entry was no longer searching before anything was written (stale snapshot). */
  | { outcome: 'stale' }
  /** The first claim lost (cancel, timeout or another match won the race); nothing to undo. */
  | { outcome: 'first_claim_failed'; matchId: string; code: string }
  /** The second claim lost; the first entry was released (`opponent_unavailable`). */
  | { outcome: 'second_claim_failed'; matchId: string; code: string }
  /** (one-transaction commit) A player's stream moved after it was read; nothing was written. */
  | { outcome: 'claim_conflict'; matchId: string; code: string };

type LoadedPlayer = LoadedState<PlayerState>;

const revisionOf = (loaded: Pick<LoadedPlayer, 'revision'>) => (loaded.revision === 'no_stream' ? -1 : loaded.revision);
const opponentOf = (side: QueuePairSide) => ({
  userId: side.userId,
  queueEntryId: side.queueEntryId,
  rating: side.rating,
});

/**
 * **Queue match commit** — commits one pair of a pass (invariants I2/I3 of docs/architecture.md, optimistic
 * concurrency on the player streams). Streams: both players' `player-…` streams and the new
 * `match-<id>`.
 *
 * 0. read both player streams; if an entry is not searching any more, skip (`stale`, no
 *    writes). The match id is derived from both entry ids and both streams' revisions
 *    (`revA`, `revB`), and `decisionFor(matchId)` gives the `MatchCreated` data (colours may
 *    depend on the id).
 *
 * Where the store appends to several streams in one transaction (`appendToStreams`), both
 * claims (pinned to `revA`/`revB`) and `MatchCreated` (expecting no match stream) are one
 * append: all three or none. A cancel, timeout or other match since the read wins
 * (`claim_conflict`, nothing to undo). A retry of the same decision is a replay (same event
 * ids, same revisions) and returns the original result. Otherwise (EventStoreDB):
 *
 * 1. claim A at `revA` ({@link claimQueueEntry}); it races a cancel/timeout on that stream:
 *    exactly one wins (`first_claim_failed`);
 * 2. claim B at `revB`; if that fails, release A ({@link releaseQueueClaim}) —
 *    `second_claim_failed`;
 * 3. `MatchCreated` on `match-<id>` ({@link createQueueMatch}).
 *
 * Releasing A in step 2 is final: B's claim is pinned to `revB` and failed only because B's
 * stream moved past it, so no claim of B for this match id can ever succeed, and
 * `MatchCreated` (which needs both claims) is never written for a released match. Every step
 * is idempotent, so a retried or concurrent run converges instead of duplicating. The caller
 * (the pairing job) enqueues game creation for `matched`.
 */
export const commitQueueMatch = async (
  context: MatchFlowContext,
  input: {
    a: QueuePairSide;
    b: QueuePairSide;
    decisionFor: (matchId: string) => MatchCreatedData;
    /**
     * Another stream's append to commit with the match, in its transaction, where the store has
     * `appendToStreams` (the pairing pass's record, when the match is the pass's only decision);
     * not made otherwise — the outcome's `alongside` says whether it was.
     */
    alongside?: (matchId: string) => StreamAppend;
  },
): Promise<QueueMatchCommitOutcome> => {
  const { store, now } = context;
  const { tenantId } = context.metadata;
  const { a, b } = input;
  const [stateA, stateB] = (await Promise.all(
    [a, b].map((side) => loadState(store, playerStream(tenantId, side.userId), playerDecider)),
  )) as [LoadedPlayer, LoadedPlayer];
  const searching = (loaded: LoadedPlayer, entryId: string) =>
    loaded.state.entries[entryId]?.status === 'searching' && loaded.state.liveMatch === null;
  if (!searching(stateA, a.queueEntryId) || !searching(stateB, b.queueEntryId)) return { outcome: 'stale' };

  const [revA, revB] = [revisionOf(stateA), revisionOf(stateB)];
  const matchId = queueMatchId(
    tenantId,
    { queueEntryId: a.queueEntryId, streamRevision: revA },
    { queueEntryId: b.queueEntryId, streamRevision: revB },
  );
  const decision = input.decisionFor(matchId);
  if (decision.matchId !== matchId) throw new Error(`decision for match ${matchId} names match ${decision.matchId}`);

  if (store.appendToStreams) {
    const claims = [
      { side: a, loaded: stateA, other: b },
      { side: b, loaded: stateB, other: a },
    ].map(({ side, loaded, other }) =>
      decideAppend({
        streamName: playerStream(tenantId, side.userId),
        decider: playerDecider,
        // The claims and MatchCreated commit together: the decision is written once, in MatchCreated.
        command: claimCommand(side, opponentOf(other), decision, now, false),
        loaded,
        metadata: matchMetadata(context, matchId),
        eventIds: () => matchEventId(matchId, 'claimed', side.queueEntryId),
      }),
    );
    const appends: StreamAppend[] = [];
    for (const claim of claims) {
      if (!claim.ok) return { outcome: 'first_claim_failed', matchId, code: claim.error.code };
      if (!claim.append) throw new Error(`claim of a searching entry decided nothing (match ${matchId})`);
      appends.push(claim.append);
    }
    const created = createQueueMatchAppend(context, decision);
    appends.push(created.append);
    const matchAt = appends.length - 1;
    if (input.alongside) appends.push(input.alongside(matchId));
    let results: AppendResult[];
    try {
      results = await store.appendToStreams(appends);
    } catch (error) {
      if (!isWrongExpectedRevision(error)) throw error;
      return { outcome: 'claim_conflict', matchId, code: 'STREAM_MOVED' };
    }
    // The players' states after their claims: the game's `RecordGameStarted` through this
    // process decides on them without reading the streams again (handleCommand, recordCreatedGame).
    claims.forEach((claim, i) => {
      const result = results[i];
      if (claim.ok && claim.append && result)
        rememberState(store, playerDecider, claim.append.streamName, result.nextExpectedRevision, claim.state);
    });
    const matchAppended = results[matchAt];
    return {
      outcome: 'matched',
      matchId,
      ...(matchAppended ? { match: { state: created.state, revision: matchAppended.nextExpectedRevision } } : {}),
      ...(input.alongside ? { alongside: true as const } : {}),
    };
  }

  const first = await claimQueueEntry(context, {
    userId: a.userId,
    queueEntryId: a.queueEntryId,
    decision,
    opponent: opponentOf(b),
    atRevision: revA,
    loaded: stateA,
  });
  if (!first.ok) return { outcome: 'first_claim_failed', matchId, code: first.code };

  const second = await claimQueueEntry(context, {
    userId: b.userId,
    queueEntryId: b.queueEntryId,
    decision,
    opponent: opponentOf(a),
    atRevision: revB,
    loaded: stateB,
  });
  if (!second.ok) {
    await releaseQueueClaim(context, { userId: a.userId, queueEntryId: a.queueEntryId, matchId });
    return { outcome: 'second_claim_failed', matchId, code: second.code };
  }

  await createQueueMatch(context, decision);
  return { outcome: 'matched', matchId };
};

/**
 * The claim of one side. `recordDecision`: the claim carries the decision (`QueueEntryMatched.decision`)
 * for claim recovery — needed only when the claims and `MatchCreated` are separate appends (a
 * store without multi-stream transactions, where a worker can die in between); a commit in one
 * transaction leaves it out, so the decision lives once in the log, in `MatchCreated`.
 */
const claimCommand = (
  side: { userId: string; queueEntryId: string },
  opponent: ClaimQueueEntry['opponent'],
  decision: MatchCreatedData,
  now: string,
  recordDecision = true,
): ClaimQueueEntry => ({
  type: 'ClaimQueueEntry',
  userId: side.userId,
  queueEntryId: side.queueEntryId,
  matchId: decision.matchId,
  opponent,
  now,
  ...(recordDecision ? { decision } : {}),
});

export type QueueClaimResult = { ok: true } | { ok: false; code: string };

export interface QueueClaimInput {
  userId: string;
  queueEntryId: string;
  decision: MatchCreatedData;
  opponent: ClaimQueueEntry['opponent'];
  /**
   * Claim only if the player's stream is still at this revision (the one the match id was
   * derived from); null = whatever the revision, as long as the entry is searching.
   */
  atRevision: number | null;
  /** The player's stream as the caller just read it, used for the first attempt (saves a read). */
  loaded?: Pick<LoadedState<PlayerState>, 'state' | 'revision'>;
}

/**
 * One claim of the queue match commit: `ClaimQueueEntry` (→ `QueueEntryMatched`, carrying the
 * decision) on the player's stream, optionally pinned to the revision the pair was decided
 * at. A claim by the same match is a success (a retry, or a concurrent run with the same
 * decision). Pinning makes "the match could not claim this entry" permanent: once the stream
 * has moved past that revision (cancel, timeout, another match), no claim for this match id
 * can ever succeed on it — so releasing the other side is final. Fails with the decider's code
 * (`ENTRY_NOT_SEARCHING`, …) or `STREAM_MOVED`.
 */
export const claimQueueEntry = async (context: MatchFlowContext, input: QueueClaimInput): Promise<QueueClaimResult> => {
  const { store } = context;
  const { decision } = input;
  const streamName = playerStream(context.metadata.tenantId, input.userId);
  const command = claimCommand(input, input.opponent, decision, context.now);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const loaded: Pick<LoadedPlayer, 'state' | 'revision'> =
      attempt === 1 && input.loaded ? input.loaded : await loadState(store, streamName, playerDecider);
    const decided = decideAppend({
      streamName,
      decider: playerDecider,
      command,
      loaded,
      metadata: matchMetadata(context, decision.matchId),
      eventIds: () => matchEventId(decision.matchId, 'claimed', input.queueEntryId),
    });
    if (!decided.ok) return { ok: false, code: decided.error.code };
    if (!decided.append) return { ok: true }; // already claimed by this match
    if (input.atRevision !== null && revisionOf(loaded) !== input.atRevision)
      return { ok: false, code: 'STREAM_MOVED' };
    try {
      await store.appendToStream(streamName, decided.append.events, {
        expectedRevision: decided.append.expectedRevision ?? 'any',
      });
      return { ok: true };
    } catch (error) {
      // Lost a race on the stream: look again (it may be our own match's claim, or a cancel).
      if (!isWrongExpectedRevision(error)) throw error;
    }
  }
  return { ok: false, code: 'STREAM_MOVED' };
};

/**
 * **Compensation of a queue claim**: gives a claimed entry back to the queue
 * (`ReleaseQueueEntry {opponent_unavailable}` → `QueueEntryReleased`, searching again with its
 * original enqueue time). Stream: the player's. Nothing unless the entry is claimed by this
 * match and has no game; returns whether a release was written.
 */
export const releaseQueueClaim = async (
  context: MatchFlowContext,
  input: { userId: string; queueEntryId: string; matchId: string },
): Promise<{ released: boolean }> => {
  const { matchId } = input;
  const result = await handleCommand({
    store: context.store,
    streamName: playerStream(context.metadata.tenantId, input.userId),
    decider: playerDecider,
    command: {
      type: 'ReleaseQueueEntry',
      userId: input.userId,
      queueEntryId: input.queueEntryId,
      matchId,
      reason: 'opponent_unavailable',
      now: context.now,
    },
    metadata: matchMetadata(context, matchId),
    eventIds: () => matchEventId(matchId, 'released', input.userId),
  });
  return { released: result.ok && result.events.length > 0 };
};

/** `CreateMatch` on a match stream assumed new, with the match's event id. */
const createMatchCommand = (context: MatchFlowContext, decision: MatchCreatedData) => ({
  streamName: matchStream(decision.matchId),
  decider: matchDecider,
  loaded: { state: matchDecider.initialState(), revision: 'no_stream' as const },
  command: { type: 'CreateMatch' as const, match: decision },
  metadata: matchMetadata(context, decision.matchId),
  eventIds: () => matchEventId(decision.matchId, 'created'),
});

/**
 * Writes `MatchCreated` (nothing if this decision is already there). Another decision under
 * the same id (a concurrent pass with a different colour draw) is not an error here: the
 * first one written is the match.
 *
 * A queue match's stream is new, so the append assumes `no_stream` without reading it first
 * (one round trip less per match). If it exists after all (a retry, a concurrent run with the
 * same decision, the recovery), the store recognises the event id and treats the append as the
 * replay it is; any other conflict re-reads and decides again.
 */
export const createQueueMatch = async (context: MatchFlowContext, decision: MatchCreatedData): Promise<void> => {
  const result = await handleCommand({ store: context.store, ...createMatchCommand(context, decision) });
  if (result.ok || result.error.code === 'MATCH_ALREADY_EXISTS') return;
  throw new Error(`CreateMatch ${decision.matchId}: ${result.error.code} ${result.error.message}`);
};

/** `MatchCreated` on the new match stream (expected: no stream), to commit with other appends. */
const createQueueMatchAppend = (
  context: MatchFlowContext,
  decision: MatchCreatedData,
): { append: StreamAppend; state: MatchState } => {
  const decided = decideAppend(createMatchCommand(context, decision));
  if (!decided.ok) throw new Error(`CreateMatch ${decision.matchId}: ${decided.error.code} ${decided.error.message}`);
  if (!decided.append) throw new Error(`CreateMatch ${decision.matchId} decided nothing`);
  return { append: decided.append, state: decided.state };
};

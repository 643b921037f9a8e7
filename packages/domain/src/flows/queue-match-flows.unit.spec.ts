import { type MatchCreatedData, makePool, matchStream, playerStream } from '@mm/contracts';
import type { EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../command-handling/handle-command.js';
import { loadState } from '../command-handling/load-state.js';
import { matchEventId, queueMatchId } from '../ids/deterministic-ids.js';
import { matchDecider } from '../match/match-decider.js';
import type { PlayerCommand } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import { flowSpec, joinCommandOf, streamsAndTypes } from '../testing/flow-specification.js';
import type { MatchFlowContext } from './match-flow-context.js';
import { recoverQueueClaim } from './queue-claim-recovery.js';
import { claimQueueEntry, commitQueueMatch, type QueuePairSide, releaseQueueClaim } from './queue-match-commit.js';

const tenant = 'acme';
const joinedAt = '2026-01-01T10:00:00.000Z';
const now = '2026-01-01T10:00:05.000Z';
const pool = makePool('3+0', 'rated');
const actor = { type: 'service', id: 'matchmaking-worker' } as const;
const A: QueuePairSide = { userId: 'alice', queueEntryId: 'e-alice', rating: 1500 };
const B: QueuePairSide = { userId: 'bob', queueEntryId: 'e-bob', rating: 1520 };
const alice = playerStream(tenant, 'alice');
const bob = playerStream(tenant, 'bob');

/** The pairing decision for a match id (white = a, as a pass with a colour rule could pick). */
const decisionFor =
  (a: QueuePairSide, b: QueuePairSide) =>
  (matchId: string): MatchCreatedData => {
    const side = (s: QueuePairSide) => ({
      userId: s.userId,
      queueEntryId: s.queueEntryId,
      rating: s.rating,
      window: { low: 1400, high: 1600 },
      waitMs: 5000,
    });
    return {
      matchId,
      source: 'queue',
      pool,
      white: side(a),
      black: side(b),
      ratingGap: Math.abs(a.rating - b.rating),
      weight: 1,
      algorithmVersion: 'test-1',
      colourReason: 'test',
      decidedAt: now,
    };
  };
/** The match id a commit of A and B derives when both streams are at these revisions. */
const matchIdAt = (revA: number, revB: number) =>
  queueMatchId(
    tenant,
    { queueEntryId: A.queueEntryId, streamRevision: revA },
    { queueEntryId: B.queueEntryId, streamRevision: revB },
  );

/** The store as one without multi-stream transactions (EventStoreDB) shows it. */
const perStream = (store: EventStore): EventStore => ({ ...store, appendToStreams: undefined });

let memory: EventStore;
let spec: ReturnType<typeof flowSpec>;
const contextOn = (store: EventStore): MatchFlowContext => ({ store, now, metadata: { tenantId: tenant, actor } });

beforeEach(() => {
  memory = createMemoryEventStore();
  spec = flowSpec(memory);
});

const onPlayer = (userId: string, command: PlayerCommand) =>
  handleCommand({
    store: memory,
    streamName: playerStream(tenant, userId),
    decider: playerDecider,
    command,
    metadata: { tenantId: tenant, correlationId: 'given', causationId: null, actor: { type: 'user', id: userId } },
  });
const joined = (side: QueuePairSide) => () => onPlayer(side.userId, joinCommandOf(side, pool, joinedAt));
const cancelled = (side: QueuePairSide) => () =>
  onPlayer(side.userId, {
    type: 'CancelQueueEntry',
    userId: side.userId,
    queueEntryId: side.queueEntryId,
    reason: 'user',
    now,
  });
const entry = async (side: QueuePairSide) =>
  (await loadState(memory, playerStream(tenant, side.userId), playerDecider)).state.entries[side.queueEntryId]!;
/** A claim of `side` for the pair's match (as a commit that stopped after it would have left it). */
const claimedAlone =
  (side: QueuePairSide, other: QueuePairSide, matchId: string, withDecision = true) =>
  () =>
    withDecision
      ? claimQueueEntry(contextOn(memory), {
          userId: side.userId,
          queueEntryId: side.queueEntryId,
          decision: decisionFor(A, B)(matchId),
          opponent: { userId: other.userId, queueEntryId: other.queueEntryId, rating: other.rating },
          atRevision: 0,
        })
      : onPlayer(side.userId, {
          type: 'ClaimQueueEntry',
          userId: side.userId,
          queueEntryId: side.queueEntryId,
          matchId,
          opponent: { userId: other.userId, queueEntryId: other.queueEntryId, rating: other.rating },
          now,
        });
const commit = (store: EventStore = memory) =>
  commitQueueMatch(contextOn(store), { a: A, b: B, decisionFor: decisionFor(A, B) });

describe.each([
  ['one transaction (appendToStreams)', (store: EventStore) => store, false],
  ['claims and compensation (no multi-stream appends)', perStream, true],
])('queue match commit: %s', (_label, variant, claimsRecordDecision) => {
  it('given two searching entries, when committed, then both claims and MatchCreated, with ids derived from the match', async () => {
    await spec.given(joined(A), joined(B));
    const { result, events } = await spec.when(() => commit(variant(memory)));
    const matchId = matchIdAt(0, 0);
    // One transaction: the match stream as the commit left it comes back (game creation decides
    // on it without a read) — the state a read of the stream gives.
    if (claimsRecordDecision) expect(result).toEqual({ outcome: 'matched', matchId });
    else
      expect(result).toEqual({
        outcome: 'matched',
        matchId,
        match: await loadState(memory, matchStream(matchId), matchDecider).then(({ state, revision }) => ({
          state,
          revision,
        })),
      });
    expect(streamsAndTypes(events)).toEqual([
      [alice, 'QueueEntryMatched'],
      [bob, 'QueueEntryMatched'],
      [matchStream(matchId), 'MatchCreated'],
    ]);
    expect(events.map((e) => e.id)).toEqual([
      matchEventId(matchId, 'claimed', A.queueEntryId),
      matchEventId(matchId, 'claimed', B.queueEntryId),
      matchEventId(matchId, 'created'),
    ]);
    expect(events[0]!.data).toMatchObject({ matchId, opponent: { userId: 'bob' } });
    // In one transaction the decision is written once, in MatchCreated; separate appends record
    // it on each claim too, for claim recovery.
    for (const claim of events.slice(0, 2))
      if (claimsRecordDecision) expect(claim.data).toMatchObject({ decision: { matchId } });
      else expect(claim.data).not.toHaveProperty('decision');
    expect(events[2]!.data).toEqual(decisionFor(A, B)(matchId));
    for (const event of events)
      expect(event.metadata).toEqual({ tenantId: tenant, correlationId: matchId, causationId: null, actor });
  });

  it('given an entry cancelled before the read, when committed, then stale and nothing', async () => {
    await spec.given(joined(A), joined(B), cancelled(B));
    const { result, events } = await spec.when(() => commit(variant(memory)));
    expect(result).toEqual({ outcome: 'stale' });
    expect(events).toEqual([]);
  });

  it('given a committed pair, when the same decision is committed again (a retried job), then stale and nothing', async () => {
    await spec.given(joined(A), joined(B), () => commit(variant(memory)));
    const { result, events } = await spec.when(() => commit(variant(memory)));
    expect(result).toEqual({ outcome: 'stale' });
    expect(events).toEqual([]);
  });

  it('given two searching entries, when two runs commit the same decision at once, then one match: two claims, one MatchCreated', async () => {
    await spec.given(joined(A), joined(B));
    const { result, events } = await spec.when(() => Promise.all([commit(variant(memory)), commit(variant(memory))]));
    const matchId = matchIdAt(0, 0);
    expect(result.map((r) => r.outcome)).toContain('matched');
    for (const r of result) expect(['matched', 'stale']).toContain(r.outcome);
    expect(streamsAndTypes(events)).toEqual([
      [alice, 'QueueEntryMatched'],
      [bob, 'QueueEntryMatched'],
      [matchStream(matchId), 'MatchCreated'],
    ]);
  });
});

describe('queue match commit: one transaction', () => {
  it('given two searching entries, when a cancel lands between the read and the commit, then claim_conflict and only the cancel', async () => {
    await spec.given(joined(A), joined(B));
    const racing: EventStore = {
      ...memory,
      async appendToStreams(appends) {
        expect((await cancelled(B)()).ok).toBe(true);
        return memory.appendToStreams!(appends);
      },
    };
    const { result, events } = await spec.when(() => commit(racing));
    expect(result).toEqual({ outcome: 'claim_conflict', matchId: matchIdAt(0, 0), code: 'STREAM_MOVED' });
    expect(streamsAndTypes(events)).toEqual([[bob, 'QueueCancelled']]);
    expect((await entry(A)).status).toBe('searching');
  });

  it('is one append of three streams', async () => {
    await spec.given(joined(A), joined(B));
    const calls: string[] = [];
    const counting: EventStore = {
      ...memory,
      appendToStream: (...args) => {
        calls.push('appendToStream');
        return memory.appendToStream(...args);
      },
      appendToStreams: (appends) => {
        calls.push(`appendToStreams(${appends.length})`);
        return memory.appendToStreams!(appends);
      },
    };
    await spec.when(() => commit(counting));
    expect(calls).toEqual(['appendToStreams(3)']);
  });
});

describe('queue match commit: claims and compensation', () => {
  it('given two searching entries, when A cancels between the read and its claim, then first_claim_failed and only the cancel', async () => {
    await spec.given(joined(A), joined(B));
    let raced = false;
    const racing: EventStore = {
      ...perStream(memory),
      async appendToStream(streamName, events, options) {
        if (!raced && streamName === alice && events[0]?.type === 'QueueEntryMatched') {
          raced = true;
          expect((await cancelled(A)()).ok).toBe(true);
        }
        return memory.appendToStream(streamName, events, options);
      },
    };
    const { result, events } = await spec.when(() => commit(racing));
    expect(result).toMatchObject({ outcome: 'first_claim_failed', matchId: matchIdAt(0, 0) });
    expect(streamsAndTypes(events)).toEqual([[alice, 'QueueCancelled']]);
    expect((await entry(B)).status).toBe('searching');
  });

  it('given two searching entries, when the second claim fails (B cancels after A is claimed), then A is released and no MatchCreated', async () => {
    await spec.given(joined(A), joined(B));
    const enqueuedAt = (await entry(A)).enqueuedAt;
    const racing: EventStore = {
      ...perStream(memory),
      async appendToStream(streamName, events, options) {
        const appended = await memory.appendToStream(streamName, events, options);
        if (streamName === alice && events[0]?.type === 'QueueEntryMatched')
          expect((await cancelled(B)()).ok).toBe(true);
        return appended;
      },
    };
    const { result, events } = await spec.when(() => commit(racing));
    const matchId = matchIdAt(0, 0);
    expect(result).toEqual({ outcome: 'second_claim_failed', matchId, code: 'ENTRY_NOT_SEARCHING' });
    expect(streamsAndTypes(events)).toEqual([
      [alice, 'QueueEntryMatched'],
      [bob, 'QueueCancelled'],
      [alice, 'QueueEntryReleased'],
    ]);
    expect(events[2]!.data).toMatchObject({ matchId, reason: 'opponent_unavailable' });
    expect(await entry(A)).toMatchObject({ status: 'searching', enqueuedAt });

    // releasing A is final: the same decision run again cannot claim anybody for that match
    const again = await spec.when(() => commit(perStream(memory)));
    expect(again.result).toEqual({ outcome: 'stale' });
    expect(again.events).toEqual([]);
  });
});

describe('compensation: releasing a queue claim', () => {
  const matchId = matchIdAt(0, 0);

  it('given A claimed by the match, when released, then QueueEntryReleased {opponent_unavailable}; again: nothing', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId));
    const first = await spec.when(() => releaseQueueClaim(contextOn(memory), { ...A, matchId }));
    expect(first.result).toEqual({ released: true });
    expect(streamsAndTypes(first.events)).toEqual([[alice, 'QueueEntryReleased']]);
    expect(first.events[0]!.id).toBe(matchEventId(matchId, 'released', 'alice'));
    const again = await spec.when(() => releaseQueueClaim(contextOn(memory), { ...A, matchId }));
    expect(again.result).toEqual({ released: false });
    expect(again.events).toEqual([]);
  });

  it('given A claimed by another match, when released for this one, then nothing', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, 'other-match'));
    const { result, events } = await spec.when(() => releaseQueueClaim(contextOn(memory), { ...A, matchId }));
    expect(result).toEqual({ released: false });
    expect(events).toEqual([]);
    expect((await entry(A)).status).toBe('matched');
  });
});

describe('claim recovery', () => {
  const matchId = matchIdAt(0, 0);
  const recover = (userId = 'alice') => recoverQueueClaim(contextOn(memory), { userId, matchId });

  it('given only A claimed (the commit stopped), B searching: when recovered, then B is claimed and MatchCreated from the recorded decision', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId));
    const { result, events } = await spec.when(() => recover());
    expect(result).toEqual({ outcome: 'completed', matchId });
    expect(streamsAndTypes(events)).toEqual([
      [bob, 'QueueEntryMatched'],
      [matchStream(matchId), 'MatchCreated'],
    ]);
    expect(events[1]!.data).toEqual(decisionFor(A, B)(matchId));
  });

  it('given a recovered pair, when the recovery runs again (a retry), then game_pending and nothing', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId), () => recover());
    const { result, events } = await spec.when(() => recover());
    expect(result).toEqual({ outcome: 'game_pending', matchId });
    expect(events).toEqual([]);
  });

  it('given both claimed without MatchCreated, when recovered from either side, then only MatchCreated', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId), claimedAlone(B, A, matchId));
    const { result, events } = await spec.when(() => recover('bob'));
    expect(result).toEqual({ outcome: 'completed', matchId });
    expect(streamsAndTypes(events)).toEqual([[matchStream(matchId), 'MatchCreated']]);
  });

  it('given only A claimed and B cancelled meanwhile, when recovered, then A is released; again: not_claimed and nothing', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId), cancelled(B));
    const { result, events } = await spec.when(() => recover());
    expect(result).toEqual({ outcome: 'released', matchId, code: 'ENTRY_NOT_SEARCHING' });
    expect(streamsAndTypes(events)).toEqual([[alice, 'QueueEntryReleased']]);
    expect(events[0]!.data).toMatchObject({ matchId, reason: 'opponent_unavailable' });
    const again = await spec.when(() => recover());
    expect(again.result).toEqual({ outcome: 'not_claimed' });
    expect(again.events).toEqual([]);
  });

  it('given a recovery that released A, when the slow original commit goes on with B, then it cannot claim B (pinned) and writes no MatchCreated', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId), cancelled(B), () => recover());
    const { result, events } = await spec.when(() =>
      claimQueueEntry(contextOn(memory), {
        userId: B.userId,
        queueEntryId: B.queueEntryId,
        decision: decisionFor(A, B)(matchId),
        opponent: { userId: A.userId, queueEntryId: A.queueEntryId, rating: A.rating },
        atRevision: 0,
      }),
    );
    expect(result).toEqual({ ok: false, code: 'ENTRY_NOT_SEARCHING' });
    expect(events).toEqual([]);
  });

  it('given the match already aborted, when recovered, then match_ended (the caller settles the players) and nothing', async () => {
    await spec.given(
      joined(A),
      joined(B),
      () => commit(),
      () =>
        handleCommand({
          store: memory,
          streamName: matchStream(matchId),
          decider: matchDecider,
          command: { type: 'AbortMatch', matchId, reason: 'game_creation_failed', attempts: 3, detail: null, now },
          metadata: { tenantId: tenant, correlationId: matchId, causationId: null, actor },
        }),
    );
    const { result, events } = await spec.when(() => recover());
    expect(result).toMatchObject({
      outcome: 'match_ended',
      match: { status: 'aborted', abortReason: 'game_creation_failed' },
    });
    expect(events).toEqual([]);
  });

  it('given a claim without a recorded decision, when recovered, then no_decision and nothing', async () => {
    await spec.given(joined(A), joined(B), claimedAlone(A, B, matchId, false));
    const { result, events } = await spec.when(() => recover());
    expect(result).toEqual({ outcome: 'no_decision' });
    expect(events).toEqual([]);
  });

  it('given an entry that is not claimed by the match, when recovered, then not_claimed and nothing', async () => {
    await spec.given(joined(A), joined(B));
    const { result, events } = await spec.when(() => recover());
    expect(result).toEqual({ outcome: 'not_claimed' });
    expect(events).toEqual([]);
  });
});

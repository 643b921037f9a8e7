import { type MatchCreatedData, makePool, matchStream, playerStream } from '@mm/contracts';
import type { EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../command-handling/handle-command.js';
import { loadState } from '../command-handling/load-state.js';
import { matchEventId } from '../ids/deterministic-ids.js';
import { matchDecider } from '../match/match-decider.js';
import type { PlayerCommand } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import { flowSpec, joinCommandOf, streamsAndTypes } from '../testing/flow-specification.js';
import {
  playersToCheckForOtherGames,
  recordCreatedGame,
  recordMatchAbort,
  settleMatchPlayers,
} from './game-creation-outcome.js';
import type { MatchFlowContext } from './match-flow-context.js';
import { commitQueueMatch, type QueuePairSide } from './queue-match-commit.js';

const tenant = 'acme';
const joinedAt = '2026-01-01T10:00:00.000Z';
const now = '2026-01-01T10:00:05.000Z';
const pool = makePool('3+0', 'rated');
const actor = { type: 'service', id: 'matchmaking-worker' } as const;
const A: QueuePairSide = { userId: 'alice', queueEntryId: 'e-alice', rating: 1500 };
const B: QueuePairSide = { userId: 'bob', queueEntryId: 'e-bob', rating: 1520 };
const alice = playerStream(tenant, 'alice');
const bob = playerStream(tenant, 'bob');

const decisionFor = (matchId: string): MatchCreatedData => {
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
    white: side(A),
    black: side(B),
    ratingGap: 20,
    weight: 1,
    algorithmVersion: 'test-1',
    colourReason: 'test',
    decidedAt: now,
  };
};

const perStream = (store: EventStore): EventStore => ({ ...store, appendToStreams: undefined });

let memory: EventStore;
let spec: ReturnType<typeof flowSpec>;
let matchId: string;
const contextOn = (store: EventStore): MatchFlowContext => ({ store, now, metadata: { tenantId: tenant, actor } });
const loadMatch = () => loadState(memory, matchStream(matchId), matchDecider);
const entry = async (side: QueuePairSide) =>
  (await loadState(memory, playerStream(tenant, side.userId), playerDecider)).state.entries[side.queueEntryId]!;
const onPlayer = (userId: string, command: PlayerCommand, store: EventStore = memory) =>
  handleCommand({
    store,
    streamName: playerStream(tenant, userId),
    decider: playerDecider,
    command,
    metadata: { tenantId: tenant, correlationId: 'given', causationId: null, actor: { type: 'user', id: userId } },
  });

const joinOf = (side: QueuePairSide): PlayerCommand => joinCommandOf(side, pool, joinedAt);

/** Given: both players joined and a queue match committed for them (`MatchCreated`, both claims). */
beforeEach(async () => {
  memory = createMemoryEventStore();
  spec = flowSpec(memory);
  for (const side of [A, B]) await onPlayer(side.userId, joinOf(side));
  const committed = await commitQueueMatch(contextOn(memory), { a: A, b: B, decisionFor });
  if (committed.outcome !== 'matched') throw new Error(`given: the pair did not commit (${committed.outcome})`);
  matchId = committed.matchId;
});

const aborted = (reason: 'game_creation_failed' | 'game_creation_rejected' | 'player_unavailable') => () =>
  recordMatchAbort(contextOn(memory), { matchId, reason, attempts: 2, detail: 'given' });

describe.each([
  ['one transaction (appendToStreams)', (store: EventStore) => store, 'one_transaction'],
  ['step by step (no multi-stream appends)', perStream, 'step_by_step'],
] as const)('game creation outcome, a game was created: %s', (_label, variant, committed) => {
  it('given a match being created, when the game is recorded, then GameCreated and the game on both players', async () => {
    const loaded = await loadMatch();
    const { result, events } = await spec.when(() =>
      recordCreatedGame(contextOn(variant(memory)), { matchId, gameId: 'game-1', loaded }),
    );
    expect(result).toMatchObject({ outcome: 'game_created', gameId: 'game-1', committed });
    expect(result.outcome === 'game_created' && result.players.every((p) => p.ok)).toBe(true);
    expect(streamsAndTypes(events)).toEqual([
      [matchStream(matchId), 'GameCreated'],
      [alice, 'QueueEntryGameStarted'],
      [bob, 'QueueEntryGameStarted'],
    ]);
    expect(events.map((e) => e.id)).toEqual([
      matchEventId(matchId, 'game-created'),
      matchEventId(matchId, 'game-started-0', 'alice'),
      matchEventId(matchId, 'game-started-0', 'bob'),
    ]);
    expect(await entry(A)).toMatchObject({ gameId: 'game-1', colour: 'white' });
    expect(await entry(B)).toMatchObject({ gameId: 'game-1', colour: 'black' });
  });

  it('given the game recorded, when it is recorded again (a retried job), then nothing', async () => {
    await spec.given(() => recordCreatedGame(contextOn(variant(memory)), { matchId, gameId: 'game-1' }));
    const { result, events } = await spec.when(() =>
      recordCreatedGame(contextOn(variant(memory)), { matchId, gameId: 'game-1' }),
    );
    expect(result).toMatchObject({ outcome: 'game_created', gameId: 'game-1' });
    expect(events).toEqual([]);
  });

  it('given a match read before the call, when an abort lands before the game is recorded, then aborted and nothing of the game', async () => {
    const loaded = await loadMatch();
    await spec.given(aborted('game_creation_failed'));
    const { result, events } = await spec.when(() =>
      recordCreatedGame(contextOn(variant(memory)), { matchId, gameId: 'game-late', loaded }),
    );
    expect(result).toMatchObject({ outcome: 'aborted', match: { status: 'aborted' } });
    expect(events).toEqual([]);
    expect((await entry(A)).gameId).toBeNull();
  });

  it('given another run recorded its game, when this run records a second one, then the match keeps the first and nothing is written', async () => {
    await spec.given(() => recordCreatedGame(contextOn(memory), { matchId, gameId: 'game-first' }));
    const { result, events } = await spec.when(() =>
      recordCreatedGame(contextOn(variant(memory)), { matchId, gameId: 'game-second' }),
    );
    expect(result).toMatchObject({ outcome: 'game_created', gameId: 'game-first', committed: 'step_by_step' });
    expect(events).toEqual([]);
  });
});

describe('game creation outcome, the match is given up', () => {
  it('given a match being created, when aborted, then MatchAborted; again: nothing', async () => {
    const { result, events } = await spec.when(aborted('game_creation_failed'));
    expect(result).toMatchObject({
      outcome: 'aborted',
      match: { status: 'aborted', abortReason: 'game_creation_failed' },
    });
    expect(streamsAndTypes(events)).toEqual([[matchStream(matchId), 'MatchAborted']]);
    expect(events[0]).toMatchObject({
      id: matchEventId(matchId, 'aborted'),
      data: { matchId, reason: 'game_creation_failed', attempts: 2, detail: 'given', abortedAt: now },
    });
    const again = await spec.when(aborted('game_creation_failed'));
    expect(again.result.outcome).toBe('aborted');
    expect(again.events).toEqual([]);
  });

  it('given the game recorded, when aborted, then game_created and nothing (nobody may be released)', async () => {
    await spec.given(() => recordCreatedGame(contextOn(memory), { matchId, gameId: 'game-1' }));
    const { result, events } = await spec.when(aborted('game_creation_failed'));
    expect(result).toMatchObject({ outcome: 'game_created', match: { status: 'game_created', gameId: 'game-1' } });
    expect(events).toEqual([]);
  });

  it('given an aborted match, when its players are settled, then both entries search again with their original enqueue time; again: nothing', async () => {
    await spec.given(aborted('game_creation_failed'));
    const enqueuedAt = (await entry(A)).enqueuedAt;
    const { state } = await loadMatch();
    expect(playersToCheckForOtherGames(state)).toEqual([]);
    const { result, events } = await spec.when(() => settleMatchPlayers(contextOn(memory), state));
    expect(result).toMatchObject({ outcome: 'released' });
    expect(streamsAndTypes(events)).toEqual([
      [alice, 'QueueEntryReleased'],
      [bob, 'QueueEntryReleased'],
    ]);
    for (const event of events) expect(event.data).toMatchObject({ matchId, reason: 'match_aborted' });
    expect(await entry(A)).toMatchObject({ status: 'searching', enqueuedAt });
    const again = await spec.when(() => settleMatchPlayers(contextOn(memory), state));
    expect(again.events).toEqual([]);
  });

  it('given a match aborted as player_unavailable, when settled, then the releases say opponent_unavailable', async () => {
    await spec.given(aborted('player_unavailable'));
    const { events } = await spec.when(async () => settleMatchPlayers(contextOn(memory), (await loadMatch()).state));
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({ reason: 'opponent_unavailable' }),
      expect.objectContaining({ reason: 'opponent_unavailable' }),
    ]);
  });

  it('given a refusal, when settled with alice busy in another game, then her entry is released and ended (active_game), bob searches again', async () => {
    await spec.given(aborted('game_creation_rejected'));
    const { state } = await loadMatch();
    expect(playersToCheckForOtherGames(state)).toEqual(['alice', 'bob']);
    const appends: string[] = [];
    const append = memory.appendToStream.bind(memory);
    memory.appendToStream = (streamName, events, options) => {
      appends.push(streamName);
      return append(streamName, events, options);
    };
    const { result, events } = await spec.when(() =>
      settleMatchPlayers(contextOn(memory), state, { busyElsewhere: new Set(['alice']) }),
    );
    // alice's release and end go in one append: no pairing pass can claim her entry in between
    expect(appends.filter((s) => s === alice)).toHaveLength(1);
    expect(result).toMatchObject({
      outcome: 'released',
      players: [
        { userId: 'alice', ok: true, endedBusy: true },
        { userId: 'bob', ok: true },
      ],
    });
    expect(streamsAndTypes(events).sort()).toEqual(
      [
        [alice, 'QueueEntryReleased'],
        [alice, 'QueueCancelled'],
        [bob, 'QueueEntryReleased'],
      ].sort(),
    );
    const aliceEvents = events.filter((e) => e.streamName === alice);
    expect(aliceEvents.map((e) => e.type)).toEqual(['QueueEntryReleased', 'QueueCancelled']);
    expect(aliceEvents[0]).toMatchObject({ id: matchEventId(matchId, 'released', 'alice') });
    expect(aliceEvents[1]).toMatchObject({
      id: matchEventId(matchId, 'ended-busy', 'alice'),
      data: { reason: 'active_game' },
    });
    expect((await entry(A)).status).toBe('cancelled');
    expect((await entry(B)).status).toBe('searching');
  });

  it('given a game recorded on the match only (players lagging), when settled, then the game on both players', async () => {
    await spec.given(() =>
      handleCommand({
        store: memory,
        streamName: matchStream(matchId),
        decider: matchDecider,
        command: { type: 'RecordGameCreated', matchId, gameId: 'game-1', now },
        metadata: { tenantId: tenant, correlationId: matchId, causationId: null, actor },
      }),
    );
    const { result, events } = await spec.when(async () =>
      settleMatchPlayers(contextOn(memory), (await loadMatch()).state),
    );
    expect(result).toMatchObject({ outcome: 'game_started' });
    expect(streamsAndTypes(events)).toEqual([
      [alice, 'QueueEntryGameStarted'],
      [bob, 'QueueEntryGameStarted'],
    ]);
  });

  it('given a match still being created, when settled, then open and nothing', async () => {
    const { result, events } = await spec.when(async () =>
      settleMatchPlayers(contextOn(memory), (await loadMatch()).state),
    );
    expect(result).toEqual({ outcome: 'open' });
    expect(events).toEqual([]);
  });
});

describe('game creation outcome, a challenge match', () => {
  it('given an aborted challenge match, when settled, then ChallengeMatchReleased on both players', async () => {
    const challengeMatch = 'ch-1';
    for (const [userId, opponentId] of [
      ['carol', 'dave'],
      ['dave', 'carol'],
    ] as const)
      await onPlayer(userId, {
        type: 'ClaimForChallenge',
        userId,
        challengeId: challengeMatch,
        matchId: challengeMatch,
        role: 'opponent',
        opponentId,
        now,
      });
    const side = (userId: string, rating: number) => ({ userId, queueEntryId: null, rating, window: null, waitMs: 0 });
    await spec.given(
      () =>
        handleCommand({
          store: memory,
          streamName: matchStream(challengeMatch),
          decider: matchDecider,
          command: {
            type: 'CreateMatch',
            match: {
              matchId: challengeMatch,
              source: 'challenge',
              challengeId: challengeMatch,
              pool,
              white: side('carol', 1500),
              black: side('dave', 1600),
              ratingGap: 100,
              weight: null,
              algorithmVersion: null,
              colourReason: 'challenger_choice',
              decidedAt: now,
            },
          },
          metadata: { tenantId: tenant, correlationId: challengeMatch, causationId: null, actor },
        }),
      () =>
        recordMatchAbort(contextOn(memory), {
          matchId: challengeMatch,
          reason: 'game_creation_rejected',
          attempts: 1,
          detail: null,
        }),
    );
    const { state } = await loadState(memory, matchStream(challengeMatch), matchDecider);
    expect(playersToCheckForOtherGames(state)).toEqual([]);
    const { events } = await spec.when(() => settleMatchPlayers(contextOn(memory), state));
    expect(streamsAndTypes(events)).toEqual([
      [playerStream(tenant, 'carol'), 'ChallengeMatchReleased'],
      [playerStream(tenant, 'dave'), 'ChallengeMatchReleased'],
    ]);
  });
});

describe('game creation outcome: the players’ states cached by the worker', () => {
  /** A store object (one process: one state cache) that records the streams it reads. */
  const recording = (store: EventStore) => {
    const reads: string[] = [];
    const wrapped: EventStore = {
      ...store,
      readStream: (name, options) => {
        reads.push(name);
        return store.readStream(name, options);
      },
    };
    return { store: wrapped, reads };
  };
  it('the worker that claimed the pair records the game in one transaction without reading the players again', async () => {
    const shared = createMemoryEventStore();
    const api = { ...shared }; // the API: another process (another store object, another cache)
    for (const side of [A, B]) await onPlayer(side.userId, joinOf(side), api);
    const worker = recording(shared);
    const committed = await commitQueueMatch(contextOn(worker.store), { a: A, b: B, decisionFor });
    if (committed.outcome !== 'matched') throw new Error(committed.outcome);
    worker.reads.length = 0;
    const recorded = await recordCreatedGame(contextOn(worker.store), { matchId: committed.matchId, gameId: 'g1' });
    expect(recorded).toMatchObject({ outcome: 'game_created', committed: 'one_transaction' });
    expect(worker.reads).toEqual([matchStream(committed.matchId)]);
    const after = await loadState(shared, alice, playerDecider, { events: 'all' });
    expect(after.state.entries[A.queueEntryId]).toMatchObject({ gameId: 'g1', colour: 'white' });
  });

  it('a stale state of a player (another worker claimed the pair) is read again, and the game still commits at once', async () => {
    const shared = createMemoryEventStore();
    for (const side of [A, B]) await onPlayer(side.userId, joinOf(side), { ...shared });
    const worker = recording(shared);
    // this worker read both players before the other worker claimed them: its states are stale
    await loadState(worker.store, alice, playerDecider);
    await loadState(worker.store, bob, playerDecider);
    const committed = await commitQueueMatch(contextOn({ ...shared }), { a: A, b: B, decisionFor });
    if (committed.outcome !== 'matched') throw new Error(committed.outcome);
    worker.reads.length = 0;
    const recorded = await recordCreatedGame(contextOn(worker.store), { matchId: committed.matchId, gameId: 'g2' });
    expect(recorded).toMatchObject({ outcome: 'game_created', committed: 'one_transaction' });
    expect(worker.reads.sort()).toEqual([alice, bob, matchStream(committed.matchId)].sort());
    const after = await loadState(shared, bob, playerDecider, { events: 'all' });
    expect(after.state.entries[B.queueEntryId]).toMatchObject({ gameId: 'g2', colour: 'black' });
  });
});

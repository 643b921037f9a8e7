import {
  type MatchAbortedData,
  type MatchCreatedData,
  matchStream,
  type PlayerEvent,
  playerStream,
} from '@mm/contracts';
import type { AppendResult, CurrentRevision } from '@mm/event-store';
import { isWrongExpectedRevision } from '@mm/event-store';
import { decideAppend, handleCommand } from '../command-handling/handle-command.js';
import { cachedState, loadState, rememberState } from '../command-handling/load-state.js';
import type { Decider } from '../decider/decider.js';
import type { DomainError } from '../errors/domain-error.js';
import { matchEventId } from '../ids/deterministic-ids.js';
import { type MatchState, matchDecider } from '../match/match-decider.js';
import type { PlayerCommand } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import type { PlayerState } from '../player/player-state.js';
import { type MatchFlowContext, matchMetadata } from './match-flow-context.js';

/*
 * The storage side of a match's game creation: what the log records once live-game-api has
 * answered (or has been given up on). Each step is idempotent (the deciders do nothing on a
 * repeat and the event ids are derived from the match id), so any job may run any of them
 * again. Asking live-game-api (the create call, lookups by key, who is busy, cancelling games)
 * is the game-creation job's part (packages/workers); it hands the answers in.
 *
 * The rule that keeps I2 without multi-stream transactions: players are released only after
 * `MatchAborted` is on the match stream, and their games recorded only after `GameCreated` is.
 * The match stream is linear, so a match ends in exactly one of the two.
 */

/** The match stream as read (state and revision), to decide on without reading it again. */
export type LoadedMatch = { state: MatchState; revision: CurrentRevision };

/** What one player's stream did in a settlement. */
export type PlayerSettlement =
  | { userId: string; ok: true; appended: number }
  | { userId: string; ok: false; error: DomainError };

export type RecordCreatedGameOutcome =
  /**
   * `GameCreated` is on the match stream (by this run or before it; `gameId` is the match's
   * game, which may be another run's) and the game on both players' streams. `committed`:
   * `one_transaction` (all three streams in one append) or `step_by_step` (then `players`
   * says how each player's stream went; a refusal is reported, not thrown).
   */
  | {
      outcome: 'game_created';
      match: MatchState;
      gameId: string;
      committed: 'one_transaction' | 'step_by_step';
      players: PlayerSettlement[];
    }
  /**
   * An abort won the race (`MatchAborted` was written meanwhile): the game is the match's
   * orphan — nothing was recorded; the caller releases the players ({@link settleMatchPlayers})
   * and calls the game off.
   */
  | { outcome: 'aborted'; match: MatchState };

/** `RecordGameCreated` on the match stream, with its event id. */
const gameCreatedCommand = (context: MatchFlowContext, matchId: string, gameId: string) => ({
  streamName: matchStream(matchId),
  decider: matchDecider,
  command: { type: 'RecordGameCreated' as const, matchId, gameId, now: context.now },
  metadata: matchMetadata(context, matchId),
  eventIds: () => matchEventId(matchId, 'game-created'),
});

/** `RecordGameStarted` on one player's stream, with its event ids. */
const gameStartedCommand = (
  context: MatchFlowContext,
  match: MatchCreatedData,
  gameId: string,
  colour: 'white' | 'black',
) => {
  const side = match[colour];
  return {
    streamName: playerStream(context.metadata.tenantId, side.userId),
    decider: playerDecider,
    command: {
      type: 'RecordGameStarted' as const,
      userId: side.userId,
      queueEntryId: match.source === 'queue' ? side.queueEntryId : null,
      matchId: match.matchId,
      gameId,
      colour,
      now: context.now,
    },
    metadata: matchMetadata(context, match.matchId),
    eventIds: (index: number) => matchEventId(match.matchId, `game-started-${index}`, side.userId),
  };
};

const loadMatch = async (context: MatchFlowContext, matchId: string): Promise<LoadedMatch> =>
  loadState(context.store, matchStream(matchId), matchDecider);

/**
 * **Game creation outcome: a game was created** — records live-game-api's game for the match:
 * `GameCreated` on `match-<id>` and `RecordGameStarted` on both players' streams
 * (`QueueEntryGameStarted`; a queue entry gets its game and colour, the live match ends).
 *
 * Where the store has `appendToStreams`: one transaction, each stream pinned to the revision it
 * was read at (`loaded` for the match: the state the game was asked for). If any stream moved
 * (an abort raced the call) or a decider refuses, nothing is written and the step-by-step path
 * follows, which re-reads and settles every race: `GameCreated` (nothing if this game is already
 * there), then the game on both players — or `aborted` when the abort won.
 */
export const recordCreatedGame = async (
  context: MatchFlowContext,
  input: { matchId: string; gameId: string; loaded?: LoadedMatch },
): Promise<RecordCreatedGameOutcome> => {
  const { matchId, gameId } = input;
  const loaded = input.loaded ?? (await loadMatch(context, matchId));
  const together = await recordTogether(context, matchId, gameId, loaded);
  if (together)
    return {
      outcome: 'game_created',
      match: together,
      gameId: together.gameId ?? gameId,
      committed: 'one_transaction',
      players: together.match
        ? [together.match.white, together.match.black].map((side) => ({ userId: side.userId, ok: true, appended: 1 }))
        : [],
    };

  const result = await handleCommand({ store: context.store, loaded, ...gameCreatedCommand(context, matchId, gameId) });
  let after: MatchState;
  if (result.ok) after = result.state;
  else if (result.error.code === 'MATCH_ABORTED' || result.error.code === 'GAME_ALREADY_CREATED')
    after = (await loadMatch(context, matchId)).state;
  else throw new Error(`RecordGameCreated ${matchId}: ${result.error.code} ${result.error.message}`);

  if (after.status === 'aborted') return { outcome: 'aborted', match: after };
  if (after.status !== 'game_created' || !after.match || !after.gameId)
    throw new Error(`RecordGameCreated ${matchId}: the match is ${after.status} after recording game ${gameId}`);
  return {
    outcome: 'game_created',
    match: after,
    gameId: after.gameId,
    committed: 'step_by_step',
    players: await recordGameStartedOnPlayers(context, after.match, after.gameId),
  };
};

/**
 * `GameCreated` and `RecordGameStarted` on both players in one `appendToStreams`. Returns the
 * match state after, or null when it did not commit (no multi-stream appends, nothing to
 * record on the match, a decider refused, or a stream moved): then nothing was written.
 */
const recordTogether = async (
  context: MatchFlowContext,
  matchId: string,
  gameId: string,
  loaded: LoadedMatch,
): Promise<MatchState | null> => {
  const { store } = context;
  if (!store.appendToStreams) return null;
  const created = decideAppend({ loaded, ...gameCreatedCommand(context, matchId, gameId) });
  const match = created.ok ? created.state.match : null;
  if (!created.ok || !created.append || !match) return null;
  // A player's state cached by this process (it claimed the pair) is decided on without a read
  // when the decision records the game: the append is pinned to its revision, so a stale state
  // conflicts (→ null → the step-by-step path, which reads). Anything else decided on a cached
  // state (a refusal, nothing to record) may only be stale: the stream is read and decided again.
  const started = await Promise.all(
    (['white', 'black'] as const).map(async (colour) => {
      const command = gameStartedCommand(context, match, gameId, colour);
      const cached = cachedState<PlayerState>(store, command.streamName, playerDecider);
      if (cached) {
        const decided = decideAppend({ loaded: cached, ...command });
        if (decided.ok && decided.append) return decided;
      }
      return decideAppend({ loaded: await loadState(store, command.streamName, playerDecider), ...command });
    }),
  );
  const appends = [created.append];
  const remember: { streamName: string; state: PlayerState }[] = [];
  for (const decided of started) {
    if (!decided.ok) return null;
    if (decided.append) {
      appends.push(decided.append);
      remember.push({ streamName: decided.append.streamName, state: decided.state });
    }
  }
  let results: AppendResult[];
  try {
    results = await store.appendToStreams(appends);
  } catch (error) {
    if (isWrongExpectedRevision(error)) return null;
    throw error;
  }
  remember.forEach(({ streamName, state }, i) => {
    const result = results[i + 1];
    if (result) rememberState(store, playerDecider, streamName, result.nextExpectedRevision, state);
  });
  return created.state;
};

/**
 * `RecordGameStarted` on both players of a match with a game (ends their live match; a queue
 * entry gets its game and colour). Every player is attempted; a refusal is reported per player.
 */
export const recordGameStartedOnPlayers = async (
  context: MatchFlowContext,
  match: MatchCreatedData,
  gameId: string,
): Promise<PlayerSettlement[]> =>
  Promise.all(
    (['white', 'black'] as const).map(async (colour): Promise<PlayerSettlement> => {
      const userId = match[colour].userId;
      const result = await handleCommand({
        store: context.store,
        ...gameStartedCommand(context, match, gameId, colour),
        // this worker most likely claimed the pair: its state of the player is current
        decideOnCachedState: true,
      });
      return result.ok
        ? { userId, ok: true, appended: result.events.length }
        : { userId, ok: false, error: result.error };
    }),
  );

export type MatchAbortOutcome =
  /** `MatchAborted` is on the match stream (by this run or before it). */
  | { outcome: 'aborted'; match: MatchState }
  /** The game won the race: nothing was written, and nobody may be released. */
  | { outcome: 'game_created'; match: MatchState };

/**
 * **Game creation outcome: the match is given up** — `AbortMatch` → `MatchAborted {reason,
 * attempts, detail}` on `match-<id>`, unless the game exists. Releasing the players is
 * {@link releaseMatchPlayers} (or {@link settleMatchPlayers}), once this returns `aborted`.
 */
export const recordMatchAbort = async (
  context: MatchFlowContext,
  input: { matchId: string; reason: MatchAbortedData['reason']; attempts: number; detail: string | null },
): Promise<MatchAbortOutcome> => {
  const { matchId, reason, attempts, detail } = input;
  const result = await handleCommand({
    store: context.store,
    streamName: matchStream(matchId),
    decider: matchDecider,
    command: { type: 'AbortMatch', matchId, reason, attempts, detail, now: context.now },
    metadata: matchMetadata(context, matchId),
    eventIds: () => matchEventId(matchId, 'aborted'),
  });
  let match: MatchState;
  if (result.ok) match = result.state;
  else if (result.error.code === 'GAME_ALREADY_CREATED') match = (await loadMatch(context, matchId)).state;
  else throw new Error(`AbortMatch ${matchId}: ${result.error.code} ${result.error.message}`);
  return match.status === 'aborted' ? { outcome: 'aborted', match } : { outcome: 'game_created', match };
};

/**
 * The players whose other games matter when `match` is released: after a refusal by
 * live-game-api (`game_creation_rejected`), the queue players — one it reports as already in
 * another game ends its entry instead of searching again (see {@link releaseMatchPlayers}).
 * Empty otherwise: then nobody needs to be asked.
 */
export const playersToCheckForOtherGames = (match: MatchState): string[] =>
  match.status === 'aborted' && match.abortReason === 'game_creation_rejected' && match.match?.source === 'queue'
    ? [match.match.white, match.match.black].filter((side) => side.queueEntryId !== null).map((side) => side.userId)
    : [];

/** What one player's stream did when an aborted match let it go. */
export type PlayerRelease = PlayerSettlement & {
  /** The entry was ended (`QueueCancelled {active_game}`) because the player is in another game. */
  endedBusy?: true;
};

/**
 * **Game creation outcome: release the players of an aborted match** — on both players'
 * streams: queue entries search again with their original enqueue time (`ReleaseQueueEntry`
 * → `QueueEntryReleased {match_aborted}`; `opponent_unavailable` when the abort was
 * `player_unavailable`); challenge players get `ReleaseChallengeMatch`
 * (`ChallengeMatchReleased`). A queue player in `busyElsewhere` (live-game-api refused the game
 * and reports the player in another game: every new opponent would be refused too, an endless
 * abort loop) has the entry ended in the same append as the release (`QueueCancelled
 * {active_game}`), which tells the player why (I5). Call only once `MatchAborted` is on the match stream.
 */
export const releaseMatchPlayers = async (
  context: MatchFlowContext,
  input: {
    match: MatchCreatedData;
    abortReason: MatchAbortedData['reason'] | null;
    busyElsewhere?: ReadonlySet<string>;
  },
): Promise<PlayerRelease[]> => {
  const { match, abortReason } = input;
  const { store, now } = context;
  const metadata = matchMetadata(context, match.matchId);
  const released = await Promise.all(
    [match.white, match.black].map(async (side): Promise<PlayerRelease | null> => {
      const { userId } = side;
      const streamName = playerStream(context.metadata.tenantId, userId);
      const eventIds = () => matchEventId(match.matchId, 'released', userId);
      if (match.source === 'challenge') {
        const result = await handleCommand({
          store,
          streamName,
          decider: playerDecider,
          command: {
            type: 'ReleaseChallengeMatch',
            userId,
            challengeId: match.challengeId ?? match.matchId,
            matchId: match.matchId,
            reason: 'match_aborted',
            now,
          },
          metadata,
          eventIds,
        });
        return result.ok
          ? { userId, ok: true, appended: result.events.length }
          : { userId, ok: false, error: result.error };
      }
      if (side.queueEntryId === null) return null;
      const releaseCommand: PlayerCommand = {
        type: 'ReleaseQueueEntry',
        userId,
        queueEntryId: side.queueEntryId,
        matchId: match.matchId,
        reason: abortReason === 'player_unavailable' ? 'opponent_unavailable' : 'match_aborted',
        now,
      };
      if (!input.busyElsewhere?.has(userId)) {
        const release = await handleCommand({
          store,
          streamName,
          decider: playerDecider,
          command: releaseCommand,
          metadata,
          eventIds,
        });
        return release.ok
          ? { userId, ok: true, appended: release.events.length }
          : { userId, ok: false, error: release.error };
      }
      // A busy player's entry is released and ended in ONE append, both decided on the stream as it
      // is: with two appends a pairing pass could claim the released entry in between, and the
      // player was matched (and refused) again.
      const end: PlayerCommand = {
        type: 'CancelQueueEntry',
        userId,
        queueEntryId: side.queueEntryId,
        reason: 'active_game',
        now,
      };
      const releaseThenEnd: Decider<PlayerState, PlayerCommand, PlayerEvent> = {
        evolve: playerDecider.evolve,
        initialState: playerDecider.initialState,
        decide: (command, state) => {
          const released = playerDecider.decide(command, state);
          if (!released.ok) return released;
          const ended = playerDecider.decide(end, released.events.reduce(playerDecider.evolve, state));
          // Already ended (a repeat, or the player cancelled first): the entry is not searching either way.
          return ended.ok ? { ok: true, events: [...released.events, ...ended.events] } : released;
        },
      };
      const settled = await handleCommand({
        store,
        streamName,
        decider: releaseThenEnd,
        command: releaseCommand,
        metadata,
        eventIds: (_index, event) =>
          matchEventId(match.matchId, event.type === 'QueueCancelled' ? 'ended-busy' : 'released', userId),
      });
      if (!settled.ok) return { userId, ok: false, error: settled.error };
      return { userId, ok: true, appended: settled.events.length, endedBusy: true };
    }),
  );
  return released.filter((player): player is PlayerRelease => player !== null);
};

export type MatchSettlement =
  | { outcome: 'released'; players: PlayerRelease[] }
  | { outcome: 'game_started'; players: PlayerSettlement[] }
  /** No outcome on the match stream yet (or no match): nothing to settle. */
  | { outcome: 'open' };

/**
 * Brings the players in line with a match that has its outcome: released after `MatchAborted`
 * ({@link releaseMatchPlayers}; `busyElsewhere` — the answer for
 * {@link playersToCheckForOtherGames}), the game recorded on their streams after `GameCreated`
 * ({@link recordGameStartedOnPlayers}). Idempotent.
 */
export const settleMatchPlayers = async (
  context: MatchFlowContext,
  match: MatchState,
  options: { busyElsewhere?: ReadonlySet<string> } = {},
): Promise<MatchSettlement> => {
  if (!match.match) return { outcome: 'open' };
  if (match.status === 'aborted')
    return {
      outcome: 'released',
      players: await releaseMatchPlayers(context, {
        match: match.match,
        abortReason: match.abortReason,
        ...(options.busyElsewhere ? { busyElsewhere: options.busyElsewhere } : {}),
      }),
    };
  if (match.status === 'game_created' && match.gameId)
    return { outcome: 'game_started', players: await recordGameStartedOnPlayers(context, match.match, match.gameId) };
  return { outcome: 'open' };
};

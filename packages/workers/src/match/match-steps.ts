import { type MatchAbortedData, type MatchCreatedData, matchStream, playerStream } from '@mm/contracts';
import { decideAppend, handleCommand, loadState, type MatchState, matchDecider, playerDecider } from '@mm/domain';
import { type CurrentRevision, isWrongExpectedRevision, type StreamAppend } from '@mm/event-store';
import type { LiveGameApi } from '@mm/integrations';
import { serviceMetadata, type WorkerContext } from '../context.js';
import { cancelMatchGame, lookUpMatchGame } from '../games/match-game.js';
import { matchEventId } from '../ids/deterministic-ids.js';

/*
 * The steps of a match's lifecycle, each idempotent (the deciders no-op on a repeat and the
 * event ids are derived from the match id), so any job may run any of them again.
 *
 * The rule that keeps I2 without multi-stream transactions: a claim is released only after
 * `MatchAborted` is on the match stream, and `MatchCreated`/`GameCreated` only ever follow
 * `MatchCreated` on that same stream. The match stream is linear, so a match is either
 * aborted (its claims are, or will be, released) or not (its claims stand) — never both.
 */

const nowIso = (ctx: WorkerContext) => new Date(ctx.now()).toISOString();

export const loadMatch = async (ctx: WorkerContext, matchId: string): Promise<MatchState> =>
  (await loadMatchStream(ctx, matchId)).state;

/** The match stream's state with its revision (to hand to the next step, which then skips its read). */
export const loadMatchStream = async (
  ctx: WorkerContext,
  matchId: string,
): Promise<{ state: MatchState; revision: CurrentRevision }> =>
  loadState(ctx.store, matchStream(matchId), matchDecider);

/**
 * Writes `MatchCreated` (no-op if an event with this match's id is already there). Another
 * decision under the same id (a concurrent pass with a different colour draw) is not an
 * error here: the first one written is the match.
 *
 * A queue match's stream is new, so the append assumes `no_stream` without reading it first
 * (one round trip less per match). If it exists after all (a retried job, a concurrent pass
 * with the same decision, the recovery sweep), the store recognises the event id and treats
 * the append as the replay it is; any other conflict re-reads and decides again.
 */
export async function createMatch(ctx: WorkerContext, tenantId: string, decision: MatchCreatedData): Promise<void> {
  const result = await handleCommand({ store: ctx.store, ...createMatchCommand(tenantId, decision) });
  if (result.ok || result.error.code === 'MATCH_ALREADY_EXISTS') return;
  throw new Error(`CreateMatch ${decision.matchId}: ${result.error.code} ${result.error.message}`);
}

/** `MatchCreated` on the new match stream (expected: no stream), to commit with other appends. */
export function createMatchAppend(tenantId: string, decision: MatchCreatedData): StreamAppend {
  const decided = decideAppend(createMatchCommand(tenantId, decision));
  if (!decided.ok) throw new Error(`CreateMatch ${decision.matchId}: ${decided.error.code} ${decided.error.message}`);
  if (!decided.append) throw new Error(`CreateMatch ${decision.matchId} decided nothing`);
  return decided.append;
}

/** `CreateMatch` on a match stream assumed new (see {@link createMatch}), with the match's event id. */
const createMatchCommand = (tenantId: string, decision: MatchCreatedData) => ({
  streamName: matchStream(decision.matchId),
  decider: matchDecider,
  loaded: { state: matchDecider.initialState(), revision: 'no_stream' as const },
  command: { type: 'CreateMatch' as const, match: decision },
  metadata: serviceMetadata(tenantId, decision.matchId),
  eventIds: () => matchEventId(decision.matchId, 'created'),
});

/**
 * Writes `MatchAborted` unless the game exists. Returns the state after: `aborted`, or
 * `game_created` when the game won the race (then nobody may be released).
 */
export async function abortMatch(
  ctx: WorkerContext,
  tenantId: string,
  matchId: string,
  abort: { reason: MatchAbortedData['reason']; attempts: number; detail: string | null },
): Promise<MatchState> {
  const result = await handleCommand({
    store: ctx.store,
    streamName: matchStream(matchId),
    decider: matchDecider,
    command: { type: 'AbortMatch', matchId, ...abort, now: nowIso(ctx) },
    metadata: serviceMetadata(tenantId, matchId),
    eventIds: () => matchEventId(matchId, 'aborted'),
  });
  if (result.ok) return result.state;
  if (result.error.code === 'GAME_ALREADY_CREATED') return loadMatch(ctx, matchId);
  throw new Error(`AbortMatch ${matchId}: ${result.error.code} ${result.error.message}`);
}

/**
 * Puts both players of an aborted match back: queue entries search again with their
 * original enqueue time (`ReleaseQueueEntry`), challenge players get `ReleaseChallengeMatch`.
 * After a refusal by live-game-api, a player it reports as already in a game has the entry
 * ended instead (`QueueCancelled {reason: 'active_game'}`) — unless that game is this
 * match's own: then it is cancelled and the entry searches again.
 * Call only once `MatchAborted` is on the match stream.
 */
export async function releasePlayers(
  ctx: WorkerContext,
  tenantId: string,
  match: MatchCreatedData,
  abortReason: MatchAbortedData['reason'] | null,
): Promise<void> {
  const now = nowIso(ctx);
  await Promise.all(
    [match.white, match.black].map(async (side) => {
      const streamName = playerStream(tenantId, side.userId);
      const metadata = serviceMetadata(tenantId, match.matchId);
      const eventIds = () => matchEventId(match.matchId, 'released', side.userId);
      if (match.source === 'challenge') {
        await handleCommand({
          store: ctx.store,
          streamName,
          decider: playerDecider,
          command: {
            type: 'ReleaseChallengeMatch',
            userId: side.userId,
            challengeId: match.challengeId ?? match.matchId,
            matchId: match.matchId,
            reason: 'match_aborted',
            now,
          },
          metadata,
          eventIds,
        });
        return;
      }
      if (side.queueEntryId === null) return;
      // Asked before the release, so no HTTP call sits between the release and the end of a
      // busy player's entry (a pass could pair the searching entry again in between).
      const busy =
        abortReason === 'game_creation_rejected'
          ? await busyElsewhere(ctx, tenantId, match.matchId, side.userId)
          : null;
      await handleCommand({
        store: ctx.store,
        streamName,
        decider: playerDecider,
        command: {
          type: 'ReleaseQueueEntry',
          userId: side.userId,
          queueEntryId: side.queueEntryId,
          matchId: match.matchId,
          reason: abortReason === 'player_unavailable' ? 'opponent_unavailable' : 'match_aborted',
          now,
        },
        metadata,
        eventIds,
      });
      // live-game-api refused the game: a player it reports as busy in a game would only be
      // refused again with every new opponent (an endless abort loop), so that entry ends here
      // with the reason, instead of searching again (I5: "or told why not").
      if (busy === 'elsewhere')
        await handleCommand({
          store: ctx.store,
          streamName,
          decider: playerDecider,
          command: {
            type: 'CancelQueueEntry',
            userId: side.userId,
            queueEntryId: side.queueEntryId,
            reason: 'active_game',
            now,
          },
          metadata,
          eventIds: () => matchEventId(match.matchId, 'ended-busy', side.userId),
        });
    }),
  );
}

/**
 * After a refusal: is the player in a game (`elsewhere`), or not (`null`)? A player whose
 * active game is this match's own (an attempt whose reply was lost made it) is not busy
 * elsewhere. Game creation records such a game before it aborts; once the abort is on the
 * stream the game cannot be recorded, so it is called off here and the entry searches again
 * (the compensation job retries a cancel that fails here).
 */
async function busyElsewhere(
  ctx: WorkerContext,
  tenantId: string,
  matchId: string,
  userId: string,
): Promise<'elsewhere' | null> {
  if (!ctx.liveGame) return null;
  const active = await ctx.liveGame.activeGame(tenantId, userId).catch(() => null);
  if (!active) return null;
  if (!(await isMatchGame(ctx.liveGame, tenantId, matchId, active))) return 'elsewhere';
  const cancelled = await cancelMatchGame(ctx.liveGame, tenantId, matchId, active.gameId).catch(
    (error: unknown) => error,
  );
  ctx.logger.warn(
    { matchId, userId, gameId: active.gameId, cancelled },
    "the player's active game is the aborted match's own game: cancelled it, the entry searches again",
  );
  return null;
}

/** Is the player's active game the game live-game-api made for this match (by its match id, else by key)? */
async function isMatchGame(
  liveGame: LiveGameApi,
  tenantId: string,
  matchId: string,
  active: { gameId: string; matchId?: string },
): Promise<boolean> {
  if (active.matchId !== undefined) return active.matchId === matchId;
  const lookup = await lookUpMatchGame(liveGame, tenantId, matchId);
  return lookup.kind === 'found' && lookup.game.gameId === active.gameId;
}

/** `RecordGameCreated` on the match stream, with its event id. */
const gameCreatedCommand = (tenantId: string, matchId: string, gameId: string, now: string) => ({
  streamName: matchStream(matchId),
  decider: matchDecider,
  command: { type: 'RecordGameCreated' as const, matchId, gameId, now },
  metadata: serviceMetadata(tenantId, matchId),
  eventIds: () => matchEventId(matchId, 'game-created'),
});

/** `RecordGameStarted` on one player's stream, with its event ids. */
const gameStartedCommand = (
  tenantId: string,
  match: MatchCreatedData,
  gameId: string,
  colour: 'white' | 'black',
  now: string,
) => {
  const side = match[colour];
  return {
    streamName: playerStream(tenantId, side.userId),
    decider: playerDecider,
    command: {
      type: 'RecordGameStarted' as const,
      userId: side.userId,
      queueEntryId: match.source === 'queue' ? side.queueEntryId : null,
      matchId: match.matchId,
      gameId,
      colour,
      now,
    },
    metadata: serviceMetadata(tenantId, match.matchId),
    eventIds: (index: number) => matchEventId(match.matchId, `game-started-${index}`, side.userId),
  };
};

/** `GameCreated` on the match stream; returns the state after (it may be `aborted`: the abort won). */
export async function recordGameCreated(
  ctx: WorkerContext,
  tenantId: string,
  matchId: string,
  gameId: string,
  loaded?: { state: MatchState; revision: CurrentRevision },
): Promise<MatchState> {
  const result = await handleCommand({
    store: ctx.store,
    loaded,
    ...gameCreatedCommand(tenantId, matchId, gameId, nowIso(ctx)),
  });
  if (result.ok) return result.state;
  if (result.error.code === 'MATCH_ABORTED' || result.error.code === 'GAME_ALREADY_CREATED')
    return loadMatch(ctx, matchId);
  throw new Error(`RecordGameCreated ${matchId}: ${result.error.code} ${result.error.message}`);
}

/**
 * `GameCreated` on the match stream and `RecordGameStarted` on both players in one transaction,
 * where the store can (`appendToStreams`): one round trip instead of three, and the players'
 * streams never lag the match. Each stream is pinned to the revision it was read at. Returns
 * the match state after, or null when it did not commit (no multi-stream appends, a stream
 * moved, or a decider refused): then nothing was written and the caller takes the step by step
 * path ({@link recordGameCreated}, {@link settlePlayers}), which handles every race.
 */
export async function recordGameCreatedWithPlayers(
  ctx: WorkerContext,
  tenantId: string,
  matchId: string,
  gameId: string,
  loaded: { state: MatchState; revision: CurrentRevision },
): Promise<MatchState | null> {
  if (!ctx.store.appendToStreams) return null;
  const now = nowIso(ctx);
  const created = decideAppend({ loaded, ...gameCreatedCommand(tenantId, matchId, gameId, now) });
  const match = created.ok ? created.state.match : null;
  if (!created.ok || !created.append || !match) return null;
  const started = await Promise.all(
    (['white', 'black'] as const).map(async (colour) => {
      const command = gameStartedCommand(tenantId, match, gameId, colour, now);
      return decideAppend({ loaded: await loadState(ctx.store, command.streamName, playerDecider), ...command });
    }),
  );
  const appends = [created.append];
  for (const player of started) {
    if (!player.ok) return null;
    if (player.append) appends.push(player.append);
  }
  try {
    await ctx.store.appendToStreams(appends);
  } catch (error) {
    if (isWrongExpectedRevision(error)) return null;
    throw error;
  }
  return created.state;
}

/** `RecordGameStarted` on both players (ends their live match; a queue entry gets its game and colour). */
export async function recordGameStarted(
  ctx: WorkerContext,
  tenantId: string,
  match: MatchCreatedData,
  gameId: string,
): Promise<void> {
  const now = nowIso(ctx);
  await Promise.all(
    (['white', 'black'] as const).map(async (colour) => {
      const result = await handleCommand({
        store: ctx.store,
        ...gameStartedCommand(tenantId, match, gameId, colour, now),
      });
      if (!result.ok)
        ctx.logger.error(
          { matchId: match.matchId, userId: match[colour].userId, error: result.error },
          'could not record the started game on the player stream',
        );
    }),
  );
}

/**
 * Brings the players in line with a finished match: releases them after an abort, records
 * the game on their streams after `GameCreated`. Returns the match state (unchanged).
 */
export async function settlePlayers(ctx: WorkerContext, tenantId: string, state: MatchState): Promise<void> {
  if (!state.match) return;
  if (state.status === 'aborted') await releasePlayers(ctx, tenantId, state.match, state.abortReason);
  else if (state.status === 'game_created' && state.gameId)
    await recordGameStarted(ctx, tenantId, state.match, state.gameId);
}

import type { MatchAbortedData } from '@mm/contracts';
import { matchStream } from '@mm/contracts';
import {
  type LoadedMatch,
  loadState,
  type MatchSettlement,
  type MatchState,
  matchDecider,
  playersToCheckForOtherGames,
  recordMatchAbort,
  settleMatchPlayers,
} from '@mm/domain';
import type { LiveGameApi } from '@mm/integrations';
import { matchFlowContext, type WorkerContext } from '../context.js';
import { cancelMatchGame, lookUpMatchGame } from '../games/match-game.js';

/*
 * The job side of a match's steps. What they write is the domain's game creation outcome flow
 * (packages/domain/src/flows/game-creation-outcome.ts); what they add is what only a job can
 * know: live-game-api's answers (who is busy in another game), and logging.
 */

export const loadMatch = async (ctx: WorkerContext, matchId: string): Promise<MatchState> =>
  (await loadMatchStream(ctx, matchId)).state;

/** The match stream's state with its revision (to hand to the next step, which then skips its read). */
export const loadMatchStream = async (ctx: WorkerContext, matchId: string): Promise<LoadedMatch> =>
  loadState(ctx.store, matchStream(matchId), matchDecider);

/**
 * Writes `MatchAborted` unless the game exists (`recordMatchAbort`). Returns the state after:
 * `aborted`, or `game_created` when the game won the race (then nobody may be released).
 */
export async function abortMatch(
  ctx: WorkerContext,
  tenantId: string,
  matchId: string,
  abort: { reason: MatchAbortedData['reason']; attempts: number; detail: string | null },
): Promise<MatchState> {
  return (await recordMatchAbort(matchFlowContext(ctx, tenantId), { matchId, ...abort })).match;
}

/**
 * Brings the players in line with a finished match (`settleMatchPlayers`): releases them after
 * an abort, records the game on their streams after `GameCreated`. After a refusal by
 * live-game-api, each queue player is asked about first (`playersToCheckForOtherGames`): one in
 * another game has the entry ended instead of searching again — asked before any release, so no
 * HTTP call sits between a busy player's release and the end of the entry (a pass could pair the
 * searching entry again in between).
 */
export async function settlePlayers(ctx: WorkerContext, tenantId: string, state: MatchState): Promise<MatchSettlement> {
  const matchId = state.match?.matchId;
  const toAsk = matchId ? playersToCheckForOtherGames(state) : [];
  const busy = await Promise.all(
    toAsk.map(async (userId) => ((await busyElsewhere(ctx, tenantId, matchId!, userId)) ? userId : null)),
  );
  const busyElsewhereSet = new Set(busy.filter((userId): userId is string => userId !== null));
  const settled = await settleMatchPlayers(matchFlowContext(ctx, tenantId), state, { busyElsewhere: busyElsewhereSet });
  if (settled.outcome === 'game_started')
    for (const player of settled.players)
      if (!player.ok)
        ctx.logger.error(
          { matchId, userId: player.userId, error: player.error },
          'could not record the started game on the player stream',
        );
  return settled;
}

/**
 * After a refusal: is the player in another game? A player whose active game is this match's
 * own (an attempt whose reply was lost made it) is not busy elsewhere. Game creation records
 * such a game before it aborts; once the abort is on the stream the game cannot be recorded, so
 * it is called off here and the entry searches again (the compensation job retries a cancel
 * that fails here).
 */
async function busyElsewhere(ctx: WorkerContext, tenantId: string, matchId: string, userId: string): Promise<boolean> {
  if (!ctx.liveGame) return false;
  const active = await ctx.liveGame.activeGame(tenantId, userId).catch(() => null);
  if (!active) return false;
  if (!(await isMatchGame(ctx.liveGame, tenantId, matchId, active))) return true;
  const cancelled = await cancelMatchGame(ctx.liveGame, tenantId, matchId, active.gameId).catch(
    (error: unknown) => error,
  );
  ctx.logger.warn(
    { matchId, userId, gameId: active.gameId, cancelled },
    "the player's active game is the aborted match's own game: cancelled it, the entry searches again",
  );
  return false;
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

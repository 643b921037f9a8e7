import { type LiveGame, type LiveGameApi, UpstreamError } from '@mm/integrations';

/*
 * A create call whose outcome is unknown (timeout, 5xx, connection lost after sending) may
 * have made the game. live-game-api keys games by the match id (the Idempotency-Key), so
 * before a match is given up, and after it was, the game is looked up by that key: found →
 * it is the match's game (recorded, or cancelled once the match is aborted); not found →
 * there is none.
 */

/** What live-game-api says about a match's game. */
export type MatchGameLookup =
  | { kind: 'found'; game: LiveGame }
  | { kind: 'none' }
  /** The lookup itself failed: a game may exist. */
  | { kind: 'unknown'; error: UpstreamError };

/** The game live-game-api made for this match (Idempotency-Key = match id), if it can tell. */
export async function lookUpMatchGame(
  liveGame: LiveGameApi,
  tenantId: string,
  matchId: string,
): Promise<MatchGameLookup> {
  try {
    const game = await liveGame.findGameByKey(tenantId, matchId);
    return game ? { kind: 'found', game } : { kind: 'none' };
  } catch (error) {
    if (error instanceof UpstreamError) return { kind: 'unknown', error };
    throw error;
  }
}

/** A found game that still stands (not called off): the match's game. */
export const standingGame = (lookup: MatchGameLookup): LiveGame | null =>
  lookup.kind === 'found' && lookup.game.status !== 'cancelled' ? lookup.game : null;

export const describeLookup = (lookup: MatchGameLookup): string =>
  lookup.kind === 'found'
    ? `live-game-api has game ${lookup.game.gameId} (${lookup.game.status}) for the match`
    : lookup.kind === 'none'
      ? 'live-game-api has no game for the match'
      : `live-game-api could not tell whether a game exists (${lookup.error.message})`;

/** What the compensation did for an aborted match. */
export type CompensationOutcome =
  | { outcome: 'no_game' }
  | { outcome: 'cancelled'; gameId: string }
  | { outcome: 'already_cancelled'; gameId: string }
  /** Played before it could be called off (reported by the audit's reconciliation). */
  | { outcome: 'finished'; gameId: string };

/**
 * The compensating call of an aborted match: finds the match's game and cancels it, so
 * no player sits in a game of a match that the log says never happened. Idempotent.
 * Throws {@link UpstreamError} when live-game-api cannot be asked or refuses (retry later).
 */
export async function cancelMatchGame(
  liveGame: LiveGameApi,
  tenantId: string,
  matchId: string,
  knownGameId?: string,
): Promise<CompensationOutcome> {
  let gameId = knownGameId;
  if (!gameId) {
    const game = await liveGame.findGameByKey(tenantId, matchId);
    if (!game) return { outcome: 'no_game' };
    if (game.status === 'cancelled') return { outcome: 'already_cancelled', gameId: game.gameId };
    if (game.status === 'finished') return { outcome: 'finished', gameId: game.gameId };
    gameId = game.gameId;
  }
  const cancelled = await liveGame.cancelGame(gameId, 'match_aborted');
  if (cancelled === 'not_found') return { outcome: 'no_game' };
  return { outcome: cancelled, gameId };
}

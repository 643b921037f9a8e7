import type { ChallengeIssuedData, ChallengeResponse, ChallengeStatus, DeclineReason } from '@mm/contracts';
import { type ChallengeState, challengeStatusAt } from '@mm/domain';
import type { ChallengeCursor, ChallengeRow } from '@mm/projections';
import { ProblemError } from '../errors/problem.js';

/** A challenge's HTTP body from its read-model row; a pending row past its expiry reads as EXPIRED. */
export const challengeBodyFromRow = (row: ChallengeRow, now: Date): ChallengeResponse => ({
  challenge_id: row.challengeId,
  status: row.status === 'PENDING' && row.expiresAt.getTime() <= now.getTime() ? 'EXPIRED' : row.status,
  challenger_id: row.challengerId,
  opponent_id: row.opponentId,
  time_control: row.timeControl,
  mode: row.mode,
  color: row.color,
  message: row.message,
  created_at: row.createdAt.toISOString(),
  expires_at: row.expiresAt.toISOString(),
  match_id: row.matchId,
  game_id: row.gameId,
  decline_reason: row.declineReason as DeclineReason | null,
});

/** A challenge's HTTP body from its stream (the source of truth; `gameId` comes from the read model when known). */
export const challengeBodyFromState = (
  challenge: ChallengeIssuedData,
  state: Pick<ChallengeState, 'status' | 'matchId' | 'declineReason' | 'settledAt' | 'challenge'>,
  now: Date,
  gameId: string | null = null,
): ChallengeResponse => ({
  challenge_id: challenge.challengeId,
  status: challengeStatusAt({ ...state, challenge }, now.toISOString()).toUpperCase() as ChallengeStatus,
  challenger_id: challenge.challengerId,
  opponent_id: challenge.opponentId,
  time_control: challenge.timeControl,
  mode: challenge.mode,
  color: challenge.challengerColour,
  message: challenge.message,
  created_at: new Date(challenge.issuedAt).toISOString(),
  expires_at: new Date(challenge.expiresAt).toISOString(),
  match_id: state.matchId,
  game_id: gameId,
  decline_reason: state.declineReason,
});

/** Cursors are opaque to clients: base64url of the last item's (created_at, challenge_id). */
export const encodeCursor = (cursor: ChallengeCursor): string =>
  Buffer.from(JSON.stringify([cursor.createdAt, cursor.challengeId])).toString('base64url');

const invalidCursor = () =>
  new ProblemError(400, 'INVALID_CURSOR', 'Invalid cursor', 'Pass back the next_cursor of a previous page unchanged.');

export const decodeCursor = (text: string): ChallengeCursor => {
  if (text.length > 400 || !/^[\w-]+$/.test(text)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    Number.isNaN(Date.parse(parsed[0]))
  )
    throw invalidCursor();
  return { createdAt: new Date(parsed[0]).toISOString(), challengeId: parsed[1] };
};

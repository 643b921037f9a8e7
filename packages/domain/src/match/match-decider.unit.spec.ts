import { type MatchCreatedData, type MatchEvent, makePool } from '@mm/contracts';
import { describe, it } from 'vitest';
import { specFor } from '../testing/decider-specification.js';
import { type MatchCommand, matchDecider } from './match-decider.js';

const given = specFor(matchDecider);
const t0 = '2026-01-01T10:00:00.000Z';
const t1 = '2026-01-01T10:00:05.000Z';

const decision: MatchCreatedData = {
  matchId: 'm1',
  source: 'queue',
  pool: makePool('3+0', 'rated'),
  white: { userId: 'alice', queueEntryId: 'e-a', rating: 1500, window: { low: 1400, high: 1600 }, waitMs: 4000 },
  black: { userId: 'bob', queueEntryId: 'e-b', rating: 1550, window: { low: 1450, high: 1650 }, waitMs: 9000 },
  ratingGap: 50,
  weight: 12.5,
  algorithmVersion: 'wave-1',
  colourReason: 'random',
  decidedAt: t0,
};
const created: MatchEvent = { type: 'MatchCreated', data: decision };
const gameCreated = (gameId = 'g1'): MatchEvent => ({
  type: 'GameCreated',
  data: { matchId: 'm1', gameId, createdAt: t1 },
});
const aborted: MatchEvent = {
  type: 'MatchAborted',
  data: { matchId: 'm1', reason: 'game_creation_failed', attempts: 5, detail: 'HTTP 503', abortedAt: t1 },
};

const create: MatchCommand = { type: 'CreateMatch', match: decision };
const recordGame = (gameId = 'g1'): MatchCommand => ({ type: 'RecordGameCreated', matchId: 'm1', gameId, now: t1 });
const abort: MatchCommand = {
  type: 'AbortMatch',
  matchId: 'm1',
  reason: 'game_creation_failed',
  attempts: 5,
  detail: 'HTTP 503',
  now: t1,
};

describe('match: CreateMatch', () => {
  it('creates a match on a new stream', () => {
    given([]).when(create).then([created]);
  });

  it('a retry of the same decision is a no-op; a different decision under the same id is refused', () => {
    given([created]).when(create).thenNothing();
    given([created])
      .when({ type: 'CreateMatch', match: { ...decision, black: { ...decision.black, userId: 'carol' } } })
      .thenError('MATCH_ALREADY_EXISTS');
  });
});

describe('match: RecordGameCreated (I5)', () => {
  it('records the game', () => {
    given([created]).when(recordGame()).then([gameCreated()]);
  });

  it('is idempotent; a second, different game is refused', () => {
    given([created, gameCreated()]).when(recordGame()).thenNothing();
    given([created, gameCreated()]).when(recordGame('g2')).thenError('GAME_ALREADY_CREATED');
  });

  it('is refused after an abort, and for an unknown match', () => {
    given([created, aborted]).when(recordGame()).thenError('MATCH_ABORTED');
    given([]).when(recordGame()).thenError('MATCH_NOT_FOUND');
  });
});

describe('match: AbortMatch (I5)', () => {
  it('aborts a match without a game', () => {
    given([created]).when(abort).then([aborted]);
  });

  it('is idempotent, refused once the game exists, and for an unknown match', () => {
    given([created, aborted]).when(abort).thenNothing();
    given([created, gameCreated()]).when(abort).thenError('GAME_ALREADY_CREATED');
    given([]).when(abort).thenError('MATCH_NOT_FOUND');
  });
});

import type { ChallengeEvent, ChallengeIssuedData } from '@mm/contracts';
import { parseEvent } from '@mm/contracts';
import { describe, expect, it } from 'vitest';
import { specFor } from '../testing/decider-specification.js';
import { challengerColour } from './challenge-colour.js';
import {
  type ChallengeCommand,
  challengeDecider,
  challengeMatchCreated,
  challengeStatusAt,
  initialChallengeState,
} from './challenge-decider.js';

const given = specFor(challengeDecider);
const t0 = '2026-01-01T10:00:00.000Z';
const t1 = '2026-01-01T10:00:20.000Z';
const expiresAt = '2026-01-01T10:01:00.000Z';
const afterExpiry = '2026-01-01T10:01:00.000Z';

const issuedData: ChallengeIssuedData = {
  challengeId: 'c1',
  challengerId: 'alice',
  opponentId: 'bob',
  timeControl: '5+3',
  mode: 'rated',
  challengerColour: 'random',
  message: 'good luck',
  issuedAt: t0,
  expiresAt,
};
const issued: ChallengeEvent = { type: 'ChallengeIssued', data: issuedData };
const accepted: ChallengeEvent = {
  type: 'ChallengeAccepted',
  data: { challengeId: 'c1', matchId: 'c1', acceptedAt: t1 },
};
const declined: ChallengeEvent = {
  type: 'ChallengeDeclined',
  data: { challengeId: 'c1', reason: 'too_fast', declinedAt: t1 },
};
const cancelled: ChallengeEvent = {
  type: 'ChallengeCancelled',
  data: { challengeId: 'c1', reason: 'challenger', cancelledAt: t1 },
};
const expired: ChallengeEvent = { type: 'ChallengeExpired', data: { challengeId: 'c1', expiredAt: afterExpiry } };

const issue = (opponentId = 'bob'): ChallengeCommand => ({
  type: 'IssueChallenge',
  challengeId: 'c1',
  challengerId: 'alice',
  opponentId,
  timeControl: '5+3',
  mode: 'rated',
  colour: 'random',
  message: 'good luck',
  expiresAt,
  now: t0,
});
const acceptBy = (userId: string, now = t1, matchId = 'c1'): ChallengeCommand => ({
  type: 'AcceptChallenge',
  challengeId: 'c1',
  userId,
  matchId,
  now,
});
const declineBy = (userId: string, now = t1): ChallengeCommand => ({
  type: 'DeclineChallenge',
  challengeId: 'c1',
  userId,
  reason: 'too_fast',
  now,
});
const cancelBy = (userId: string, reason: 'challenger' | 'replaced' = 'challenger'): ChallengeCommand => ({
  type: 'CancelChallenge',
  challengeId: 'c1',
  userId,
  reason,
  now: t1,
});
const expire = (now = afterExpiry): ChallengeCommand => ({ type: 'ExpireChallenge', challengeId: 'c1', now });

describe('challenge: IssueChallenge', () => {
  it('issues a pending challenge', () => {
    given([]).when(issue()).then([issued]);
  });

  it('cannot challenge yourself', () => {
    given([]).when(issue('alice')).thenError('CANNOT_CHALLENGE_SELF');
  });

  it('a retry is a no-op; another challenge under the same id is refused', () => {
    given([issued]).when(issue()).thenNothing();
    given([issued]).when(issue('carol')).thenError('CHALLENGE_ALREADY_EXISTS');
  });
});

describe('challenge: AcceptChallenge', () => {
  it('the opponent accepts a pending challenge', () => {
    given([issued]).when(acceptBy('bob')).then([accepted]);
  });

  it('strangers get 404, the challenger 403', () => {
    given([issued]).when(acceptBy('mallory')).thenError('CHALLENGE_NOT_FOUND');
    given([issued]).when(acceptBy('alice')).thenError('NOT_ALLOWED');
    given([]).when(acceptBy('bob')).thenError('CHALLENGE_NOT_FOUND');
  });

  it('409 when not pending', () => {
    for (const ended of [declined, cancelled, expired])
      given([issued, ended]).when(acceptBy('bob')).thenError('INVALID_CHALLENGE_STATE');
    given([issued, accepted])
      .when(acceptBy('bob', t1, 'other'))
      .thenError('INVALID_CHALLENGE_STATE');
  });

  it('is expired by time even before ChallengeExpired is written', () => {
    expect(given([issued]).when(acceptBy('bob', afterExpiry)).thenError('INVALID_CHALLENGE_STATE')).toMatch(/expired/);
  });

  it('a retried accept of the same match is a no-op', () => {
    given([issued, accepted]).when(acceptBy('bob')).thenNothing();
  });
});

describe('challenge: DeclineChallenge', () => {
  it('the opponent declines with a reason', () => {
    given([issued]).when(declineBy('bob')).then([declined]);
  });

  it('only the opponent, only while pending', () => {
    given([issued]).when(declineBy('alice')).thenError('NOT_ALLOWED');
    given([issued]).when(declineBy('mallory')).thenError('CHALLENGE_NOT_FOUND');
    given([issued, accepted]).when(declineBy('bob')).thenError('INVALID_CHALLENGE_STATE');
    given([issued]).when(declineBy('bob', afterExpiry)).thenError('INVALID_CHALLENGE_STATE');
  });
});

describe('challenge: CancelChallenge', () => {
  it('the challenger withdraws', () => {
    given([issued]).when(cancelBy('alice')).then([cancelled]);
  });

  it('only the challenger, only while pending', () => {
    given([issued]).when(cancelBy('bob')).thenError('NOT_ALLOWED');
    given([issued]).when(cancelBy('mallory')).thenError('CHALLENGE_NOT_FOUND');
    given([issued, accepted]).when(cancelBy('alice')).thenError('INVALID_CHALLENGE_STATE');
  });

  it('replacement of an already ended challenge is a no-op', () => {
    given([issued, declined]).when(cancelBy('alice', 'replaced')).thenNothing();
    given([issued])
      .when(cancelBy('alice', 'replaced'))
      .then([{ type: 'ChallengeCancelled', data: { challengeId: 'c1', reason: 'replaced', cancelledAt: t1 } }]);
  });
});

describe('challenge: ExpireChallenge', () => {
  it('expires a pending challenge at its expiry', () => {
    given([issued]).when(expire()).then([expired]);
  });

  it('is a no-op before expiry and when not pending', () => {
    given([issued]).when(expire(t1)).thenNothing();
    for (const ended of [accepted, declined, cancelled, expired]) given([issued, ended]).when(expire()).thenNothing();
    given([]).when(expire()).thenNothing();
  });

  it('challengeStatusAt reports expiry by time', () => {
    const state = challengeDecider.evolve(initialChallengeState(), issued);
    expect(challengeStatusAt(state, t1)).toBe('pending');
    expect(challengeStatusAt(state, afterExpiry)).toBe('expired');
  });
});

describe('challenge colours and match', () => {
  it('random is reproducible from the challenge id, and both colours occur', () => {
    const colours = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const id = `challenge-${i}`;
      const first = challengerColour(id, 'random');
      expect(challengerColour(id, 'random')).toEqual(first);
      colours.add(first.colour);
    }
    expect(colours).toEqual(new Set(['white', 'black']));
  });

  it('a chosen colour is honoured', () => {
    expect(challengerColour('c1', 'black')).toEqual({ colour: 'black', reason: 'challenger_choice' });
  });

  it('builds a valid MatchCreated for the accepted challenge', () => {
    const data = challengeMatchCreated(
      { ...issuedData, challengerColour: 'black' },
      { matchId: 'c1', challengerRating: 1500, opponentRating: 1620, now: t1 },
    );
    expect(data).toMatchObject({
      source: 'challenge',
      challengeId: 'c1',
      pool: { key: '5+3:rated' },
      white: { userId: 'bob', rating: 1620, waitMs: 20_000, window: null, queueEntryId: null },
      black: { userId: 'alice', rating: 1500 },
      ratingGap: 120,
      colourReason: 'challenger_choice',
    });
    expect(parseEvent('MatchCreated', 1, data).data).toEqual(data);
  });
});

import { describe, expect, it } from 'vitest';
import { EventContractError, eventSchemas, isEventType, parseEvent } from './registry.js';

const at = '2026-01-01T10:00:00.000Z';
const pool = { key: '3+0:rated', timeControl: '3+0', mode: 'rated' } as const;
const side = (userId: string) => ({
  userId,
  queueEntryId: `e-${userId}`,
  rating: 1500,
  window: { low: 1400, high: 1600 },
  waitMs: 1200,
});

/** One valid example per event type; the test below fails if a type is added without one. */
const examples: Record<keyof typeof eventSchemas, unknown> = {
  QueueJoined: {
    userId: 'u1',
    queueEntryId: 'e1',
    pool,
    rating: 1500,
    ratingSource: 'rating-api',
    ratingRange: { min: 1200 },
    enqueuedAt: at,
  },
  QueueCancelled: { userId: 'u1', queueEntryId: 'e1', reason: 'user', cancelledAt: at },
  QueueTimedOut: { userId: 'u1', queueEntryId: 'e1', waitedMs: 600000, timedOutAt: at },
  QueueEntryMatched: {
    userId: 'u1',
    queueEntryId: 'e1',
    matchId: 'm1',
    opponent: { userId: 'u2', queueEntryId: 'e2', rating: 1510 },
    matchedAt: at,
  },
  QueueEntryReleased: { userId: 'u1', queueEntryId: 'e1', matchId: 'm1', reason: 'match_aborted', releasedAt: at },
  QueueEntryGameStarted: {
    userId: 'u1',
    queueEntryId: null,
    matchId: 'm1',
    gameId: 'g1',
    colour: 'white',
    startedAt: at,
  },
  ChallengeSent: {
    userId: 'u1',
    challengeId: 'c1',
    opponentId: 'u2',
    timeControl: '5+3',
    mode: 'casual',
    expiresAt: at,
    sentAt: at,
  },
  ChallengeSettled: { userId: 'u1', challengeId: 'c1', outcome: 'declined', settledAt: at },
  ChallengeMatchClaimed: {
    userId: 'u1',
    challengeId: 'c1',
    matchId: 'c1',
    role: 'challenger',
    opponentId: 'u2',
    heldQueueEntryId: null,
    claimedAt: at,
  },
  ChallengeMatchReleased: {
    userId: 'u1',
    challengeId: 'c1',
    matchId: 'c1',
    reason: 'challenge_not_accepted',
    releasedAt: at,
  },
  MatchCreated: {
    matchId: 'm1',
    source: 'queue',
    pool,
    white: side('u1'),
    black: side('u2'),
    ratingGap: 0,
    weight: 3.5,
    algorithmVersion: 'wave-1',
    colourReason: 'random',
    decidedAt: at,
  },
  GameCreated: { matchId: 'm1', gameId: 'g1', createdAt: at },
  MatchAborted: { matchId: 'm1', reason: 'game_creation_failed', attempts: 5, detail: 'HTTP 503', abortedAt: at },
  ChallengeIssued: {
    challengeId: 'c1',
    challengerId: 'u1',
    opponentId: 'u2',
    timeControl: '5+3',
    mode: 'rated',
    challengerColour: 'random',
    message: null,
    issuedAt: at,
    expiresAt: at,
  },
  ChallengeAccepted: { challengeId: 'c1', matchId: 'c1', acceptedAt: at },
  ChallengeDeclined: { challengeId: 'c1', reason: 'too_fast', declinedAt: at },
  ChallengeCancelled: { challengeId: 'c1', reason: 'replaced', cancelledAt: at },
  ChallengeExpired: { challengeId: 'c1', expiredAt: at },
  PairingPassCompleted: {
    passId: 'p1',
    pool,
    decidedAt: at,
    config: {
      initialWindow: 100,
      wideningStep: 25,
      wideningIntervalSeconds: 10,
      maxWindow: 500,
      rematchCooldownSeconds: 0,
    },
    algorithmVersion: 'mwm-1',
    entries: [
      { entryId: 'e1', userId: 'u1', rating: 1500, waitMs: 1200, window: { low: 1400, high: 1600 } },
      {
        entryId: 'e2',
        userId: 'u2',
        rating: 1510,
        waitMs: 300,
        window: { low: 1410, high: 1550 },
        ratingRange: { max: 1550 },
      },
      {
        entryId: 'e3',
        userId: 'u3',
        rating: 1520,
        waitMs: 0,
        window: { low: 1600, high: 1500 },
        ratingRange: { min: 1600 },
      },
    ],
    pairs: [{ a: 'e1', b: 'e2', ratingGap: 10, weight: 1234, outcome: 'matched', matchId: 'm1' }],
    totalWeight: 1234,
    certificate: { exact: true, upperBound: 1234, edges: 1 },
  },
};

describe('event registry', () => {
  it.each(Object.entries(examples))('%s: a valid example parses at the current version', (type, data) => {
    expect(isEventType(type)).toBe(true);
    const { schemaVersion } = eventSchemas[type as keyof typeof eventSchemas];
    expect(parseEvent(type, schemaVersion, data)).toEqual({ type, data });
  });

  it.each(Object.keys(examples))('%s: rejects data with a required field missing', (type) => {
    const data = { ...(examples[type as keyof typeof examples] as Record<string, unknown>) };
    delete data[Object.keys(data)[0]!];
    expect(() => parseEvent(type, eventSchemas[type as keyof typeof eventSchemas].schemaVersion, data)).toThrow(
      EventContractError,
    );
  });

  it('PairingPassCompleted: a pair names entries of the pass, and has a match id exactly when matched', () => {
    const pass = examples.PairingPassCompleted as { pairs: Record<string, unknown>[] };
    const withPair = (pair: Record<string, unknown>) => ({ ...pass, pairs: [pair] });
    expect(() => parseEvent('PairingPassCompleted', 1, withPair({ ...pass.pairs[0], b: 'e9' }))).toThrow(/every pair/);
    expect(() => parseEvent('PairingPassCompleted', 1, withPair({ ...pass.pairs[0], outcome: 'stale' }))).toThrow(
      /matchId/,
    );
    const { matchId: _m, ...stale } = pass.pairs[0]!;
    expect(parseEvent('PairingPassCompleted', 1, withPair({ ...stale, outcome: 'stale' })).type).toBe(
      'PairingPassCompleted',
    );
  });

  it('rejects unknown types and unsupported versions with stable codes', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as EventContractError).code;
      }
      return 'none';
    };
    expect(codeOf(() => parseEvent('Nope', 1, {}))).toBe('UNKNOWN_EVENT_TYPE');
    expect(codeOf(() => parseEvent('QueueTimedOut', 2, examples.QueueTimedOut))).toBe('UNSUPPORTED_SCHEMA_VERSION');
    expect(codeOf(() => parseEvent('QueueTimedOut', 0, examples.QueueTimedOut))).toBe('UNSUPPORTED_SCHEMA_VERSION');
    expect(codeOf(() => parseEvent('QueueTimedOut', 1, { ...(examples.QueueTimedOut as object), waitedMs: -1 }))).toBe(
      'INVALID_EVENT_DATA',
    );
  });

  it('checks cross-field rules', () => {
    expect(() => parseEvent('MatchCreated', 1, { ...(examples.MatchCreated as object), black: side('u1') })).toThrow(
      /two different users/,
    );
    expect(() => parseEvent('MatchCreated', 1, { ...(examples.MatchCreated as object), source: 'challenge' })).toThrow(
      /challengeId/,
    );
    expect(() =>
      parseEvent('QueueJoined', 1, { ...(examples.QueueJoined as object), pool: { ...pool, key: '5+0:rated' } }),
    ).toThrow(/pool key/);
    expect(() =>
      parseEvent('QueueJoined', 1, { ...(examples.QueueJoined as object), ratingRange: { min: 1600, max: 1500 } }),
    ).toThrow(/min must be/);
    expect(() =>
      parseEvent('ChallengeIssued', 2, { ...(examples.ChallengeIssued as object), opponentId: 'u1' }),
    ).toThrow(/yourself/);
  });

  it('reads ChallengeIssued v1 (`colour`) as v2 (`challengerColour`) through its upcaster', () => {
    const { challengerColour, ...rest } = examples.ChallengeIssued as { challengerColour: string };
    const v1 = { ...rest, colour: challengerColour };
    expect(parseEvent('ChallengeIssued', 1, v1)).toEqual({ type: 'ChallengeIssued', data: examples.ChallengeIssued });
    expect(() => parseEvent('ChallengeIssued', 1, { ...v1, colour: 'green' })).toThrow(/invalid ChallengeIssued v1/);
    expect(() => parseEvent('ChallengeIssued', 2, v1)).toThrow(/challengerColour/);
    expect(() => parseEvent('ChallengeIssued', 3, examples.ChallengeIssued)).toThrow(EventContractError);
  });

  it('tolerates unknown extra fields (tolerant reader) and drops them', () => {
    const parsed = parseEvent('GameCreated', 1, { ...(examples.GameCreated as object), addedLater: true });
    expect(parsed.data).toEqual(examples.GameCreated);
  });
});

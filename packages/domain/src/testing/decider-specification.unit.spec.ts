import { describe, expect, it } from 'vitest';
import { matchDecider } from '../match/match-decider.js';
import { specFor } from './decider-specification.js';

// The helper must fail loudly, otherwise every spec written with it could pass vacuously.
describe('specFor', () => {
  const given = specFor(matchDecider);
  const record = { type: 'RecordGameCreated', matchId: 'm1', gameId: 'g1', now: '2026-01-01T00:00:00.000Z' } as const;

  it('then() fails when the command is rejected or produces other events', () => {
    expect(() => given([]).when(record).then([])).toThrow(/MATCH_NOT_FOUND/);
  });

  it('thenNothing() and thenError() fail on the wrong outcome', () => {
    expect(() => given([]).when(record).thenNothing()).toThrow(/MATCH_NOT_FOUND/);
    expect(() => given([]).when(record).thenError('MATCH_ABORTED')).toThrow(/MATCH_ABORTED/);
    expect(given([]).when(record).thenError('MATCH_NOT_FOUND')).toMatch(/m1/);
  });
});

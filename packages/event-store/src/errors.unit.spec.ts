import { describe, expect, it } from 'vitest';
import { isWrongExpectedRevision, WrongExpectedRevisionError } from './errors.js';

describe('WrongExpectedRevisionError', () => {
  it('carries the stream, the expected and the actual revision, with a stable code', () => {
    const error = new WrongExpectedRevisionError('player-t1_u1', 3, 5);
    expect(error).toMatchObject({
      code: 'WRONG_EXPECTED_REVISION',
      streamName: 'player-t1_u1',
      expected: 3,
      actual: 5,
    });
    expect(isWrongExpectedRevision(error)).toBe(true);
    expect(isWrongExpectedRevision(new Error('x'))).toBe(false);
  });
});

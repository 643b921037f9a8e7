import { describe, expect, it } from 'vitest';
import { inlineParams } from './sql-batch.js';

describe('inlineParams', () => {
  it('inlines escaped literals for $n (and $10 is not $1 followed by 0)', () => {
    const params = ['a', 2, null, true, "it's", 'back\\slash', '$1 not a param', 8, 9, 'ten'];
    expect(inlineParams('SELECT $1, $2, $3, $4, $5, $6, $7, $10', params)).toBe(
      "SELECT 'a', '2', NULL, TRUE, 'it''s',  E'back\\\\slash', '$1 not a param', 'ten'",
    );
  });

  it('serialises objects as JSON and dates as ISO text', () => {
    expect(inlineParams('$1 $2', [{ min: 1 }, new Date('2026-01-01T00:00:00Z')])).toBe(
      `'{"min":1}' '2026-01-01T00:00:00.000Z'`,
    );
  });

  it('refuses a missing value or a non-finite number', () => {
    expect(() => inlineParams('$2', ['x'])).toThrow(RangeError);
    expect(() => inlineParams('$1', [Number.NaN])).toThrow(RangeError);
  });
});

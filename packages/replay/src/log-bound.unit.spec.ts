import { describe, expect, it } from 'vitest';
import { ReplayInputError } from './errors.js';
import { parseLogBound, parseTime } from './log-bound.js';

describe('parseLogBound (--to, --from)', () => {
  it('reads digits as a position and ISO text as a time', () => {
    expect(parseLogBound('8540586463')).toEqual({ position: 8540586463 });
    expect(parseLogBound('2026-11-29T10:00:00Z')).toEqual({ time: new Date('2026-11-29T10:00:00Z') });
    expect(parseLogBound('2026-11-29T10:00:00.250+01:00')).toEqual({ time: new Date('2026-11-29T09:00:00.250Z') });
    expect(parseLogBound('2026-11-29')).toEqual({ time: new Date('2026-11-29T00:00:00Z') });
  });

  it('refuses anything else with a hint', () => {
    for (const text of ['yesterday', '12:00', '-5', '2026-13-45T99:00:00Z', '', '1e9', '99999999999999999999'])
      expect(() => parseLogBound(text), text).toThrow(ReplayInputError);
    expect(() => parseTime('123')).toThrow(/not an ISO time/);
  });
});

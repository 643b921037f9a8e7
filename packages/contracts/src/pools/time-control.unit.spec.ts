import { describe, expect, it } from 'vitest';
import { makePool, parsePoolKey, poolKey } from './pool.js';
import { formatTimeControl, parseTimeControl, TimeControlText, tryParseTimeControl } from './time-control.js';

describe('parseTimeControl', () => {
  it.each([
    ['3+2', 180, 2],
    ['3+0', 180, 0],
    ['0+1', 0, 1],
    ['0.5+0', 30, 0],
    ['1.5+1', 90, 1],
    ['180+180', 10800, 180],
  ])('parses %s', (text, initialSeconds, incrementSeconds) => {
    expect(parseTimeControl(text)).toEqual({ initialSeconds, incrementSeconds });
  });

  it.each(['', '3', '3+', '+2', '3-2', ' 3+2', '03+2', '3+02', '0+0', '181+0', '3+181', '0.33+0', 'a+b', '-1+2'])(
    'rejects %j',
    (text) => {
      expect(tryParseTimeControl(text).ok).toBe(false);
      expect(() => parseTimeControl(text)).toThrow(RangeError);
    },
  );

  it('formats back to the canonical text', () => {
    for (const text of ['3+2', '0.5+0', '1.5+1', '0.25+0', '10+5'])
      expect(formatTimeControl(parseTimeControl(text))).toBe(text);
  });

  it('TimeControlText rejects non-canonical spellings', () => {
    expect(TimeControlText.safeParse('3+2').success).toBe(true);
    expect(TimeControlText.safeParse('3.0+2').success).toBe(false);
    expect(TimeControlText.safeParse('0.50+0').success).toBe(false);
  });

  it('TimeControlText gives the same answer, with its message, every time a text is checked (answers are remembered)', () => {
    const messages = (text: string) => TimeControlText.safeParse(text).error?.issues.map((i) => i.message);
    for (let i = 0; i < 3; i++) {
      expect(messages('3.0+2')).toEqual(['write the time control as "3+2"']);
      expect(messages('0+0')).toEqual(['time control "0+0" has no time']);
      expect(messages('5+3')).toBeUndefined();
    }
    // past the first 1,024 texts nothing more is remembered, and the answers stay right
    for (let n = 1; n <= 1100; n++)
      expect(TimeControlText.safeParse(`${n % 180}+${n % 7}`).success).toBe(n % 180 !== 0 || n % 7 !== 0);
    expect(messages('181+0')).toEqual(['initial time must be at most 180 minutes']);
  });
});

describe('pool keys', () => {
  it('joins time control and mode', () => {
    expect(poolKey('3+0', 'rated')).toBe('3+0:rated');
    expect(makePool('5+3', 'casual')).toEqual({ key: '5+3:casual', timeControl: '5+3', mode: 'casual' });
  });

  it('parses keys back and rejects malformed ones', () => {
    expect(parsePoolKey('3+0:rated')).toEqual({ timeControl: '3+0', mode: 'rated' });
    for (const key of ['3+0', '3+0:blitz', ':rated', 'x:rated']) expect(() => parsePoolKey(key)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { percentile, summarize } from './percentiles.js';

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled order
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('summarizes with rounding', () => {
    expect(summarize([1.234, 2.345, 3.456])).toEqual({ count: 3, p50: 2.3, p99: 3.5, max: 3.5 });
    expect(summarize([])).toEqual({ count: 0, p50: null, p99: null, max: null });
  });
});

import { describe, expect, it } from 'vitest';
import { latencyTimeline, percentile, summarize } from './percentiles.js';

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

  it('buckets match latencies by second join, with the faults that started in each bucket', () => {
    const from = 1_000_000;
    const samples = [
      { joinedAt: from + 100, ms: 40 },
      { joinedAt: from + 4_900, ms: 60 },
      { joinedAt: from + 12_000, ms: 3_000 },
    ];
    const faults = [{ kind: 'sigkill', target: 'worker-1', start: from + 11_000 }];
    expect(latencyTimeline(samples, faults, from)).toEqual([
      { from_s: 0, matches: 2, p50: 40, p99: 60, max: 60, faults: [] },
      { from_s: 5, matches: 0, p50: null, p99: null, max: null, faults: [] },
      { from_s: 10, matches: 1, p50: 3_000, p99: 3_000, max: 3_000, faults: ['kill worker-1'] },
    ]);
    expect(latencyTimeline([], [], from)).toEqual([]);
  });
});

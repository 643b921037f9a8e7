import { describe, expect, it } from 'vitest';
import { mulberry32, seededRandom } from './random.js';

describe('the seeded PRNG', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, mulberry32(43))).not.toEqual(first);
    // mulberry32's known first output for seed 42 (a change of algorithm would change every seeded run).
    expect(first[0]).toBeCloseTo(0.6011037519201636, 15);
  });

  it('stays in [0, 1) and text seeds are stable', () => {
    const random = seededRandom('run-1');
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
    expect(seededRandom('run-1')()).toBe(seededRandom('run-1')());
    expect(seededRandom('run-1')()).not.toBe(seededRandom('run-2')());
  });
});

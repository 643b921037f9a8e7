import { describe, expect, it } from 'vitest';
import { defaultPairingConfig } from '../config.js';
import { ratingWindow, windowHalfWidth } from './rating-window.js';

const now = 1_700_000_000_000;
const config = { ...defaultPairingConfig, maxWindow: 500 };

describe('ratingWindow', () => {
  it('starts at ±initialWindow', () => {
    expect(ratingWindow({ rating: 1500, enqueuedAt: now }, now, config)).toEqual({
      low: 1400,
      high: 1600,
      halfWidth: 100,
    });
  });

  it('widens by a step per full interval (floor), capped at maxWindow', () => {
    expect(windowHalfWidth(9_999, config)).toBe(100);
    expect(windowHalfWidth(10_000, config)).toBe(125);
    expect(windowHalfWidth(59_000, config)).toBe(225);
    expect(windowHalfWidth(160_000, config)).toBe(500);
    expect(windowHalfWidth(3_600_000, config)).toBe(500);
  });

  it('never narrows for a clock-skewed future enqueue time', () => {
    expect(ratingWindow({ rating: 1500, enqueuedAt: now + 5_000 }, now, config).halfWidth).toBe(100);
  });

  it('is narrowed by the player’s own rating range, either bound optional', () => {
    const w = ratingWindow({ rating: 1500, enqueuedAt: now - 20_000, ratingRange: { min: 1450 } }, now, config);
    expect(w).toEqual({ low: 1450, high: 1650, halfWidth: 150 });
    expect(ratingWindow({ rating: 1500, enqueuedAt: now, ratingRange: { max: 1520 } }, now, config).high).toBe(1520);
    expect(ratingWindow({ rating: 1500, enqueuedAt: now, ratingRange: null }, now, config).low).toBe(1400);
    // A range that misses the window entirely leaves an empty window (low > high).
    const empty = ratingWindow({ rating: 1500, enqueuedAt: now, ratingRange: { min: 1800 } }, now, config);
    expect(empty.low).toBeGreaterThan(empty.high);
  });
});

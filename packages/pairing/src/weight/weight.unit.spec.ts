import { describe, expect, it } from 'vitest';
import { defaultPairingConfig } from '../config.js';
import { edgeWeight, WEIGHT_LIMIT, weightScales } from './weight.js';

function worstTotal(size: number): number {
  const s = weightScales(size, defaultPairingConfig);
  const maxEdge = s.pairBonus + 2 * s.waitUnit * s.waitCapSeconds + s.gapCap;
  return Math.floor(size / 2) * maxEdge;
}

describe('weightScales', () => {
  it('keeps every matching total below 2^52 up to 100,000 entries (and beyond)', () => {
    for (const size of [2, 12, 1000, 10_000, 100_000, 1_000_000]) {
      expect(worstTotal(size)).toBeLessThanOrEqual(WEIGHT_LIMIT);
      expect(Number.isSafeInteger(worstTotal(size))).toBe(true);
    }
  });

  it('is strictly lexicographic for pools up to the exact limit', () => {
    for (const size of [2, 13, 1000, 3000]) {
      const s = weightScales(size, defaultPairingConfig);
      const pairs = Math.floor(size / 2);
      expect(s.lexicographic).toBe(true);
      // One pair more outweighs all wait and gap terms of any matching.
      expect(s.pairBonus).toBeGreaterThan(pairs * (2 * s.waitUnit * s.waitCapSeconds + s.gapCap));
      // One second of wait outweighs the gap terms of any matching.
      expect(s.waitUnit).toBeGreaterThan(pairs * s.gapCap);
    }
    const big = weightScales(100_000, defaultPairingConfig);
    expect(big.lexicographic).toBe(false);
    expect(big.waitUnit).toBeGreaterThan(big.gapCap);
  });

  it('rewards waits and penalises gaps', () => {
    const s = weightScales(100, defaultPairingConfig);
    expect(edgeWeight(s, 10_000, 0, 0)).toBe(edgeWeight(s, 0, 0, 0) + 10 * s.waitUnit);
    expect(edgeWeight(s, 0, 0, 30)).toBe(edgeWeight(s, 0, 0, 0) - 30);
  });
});

import { seededRandom } from '@mm/testing/random';
import { describe, expect, it } from 'vitest';
import { createFaultPlan } from './fault-plan.js';

const rates = { reject: 0.05, error: 0.2, timeout: 0.05, duplicate: 0.1 };

describe('fault plan', () => {
  it('draws each fault at about its configured rate', () => {
    const plan = createFaultPlan(rates, { baseMs: 0, jitterMs: 0 }, seededRandom('rates'));
    const n = 20_000;
    for (let i = 0; i < n; i++) plan.nextCreateFault();
    const counts = plan.counts();
    expect(counts.reject / n).toBeCloseTo(0.05, 1);
    expect(counts.error / n).toBeGreaterThan(0.18);
    expect(counts.error / n).toBeLessThan(0.22);
    expect(counts.timeout / n).toBeCloseTo(0.05, 1);
    expect(counts.duplicate / n).toBeGreaterThan(0.08);
    expect(counts.duplicate / n).toBeLessThan(0.12);
    expect(counts.none / n).toBeGreaterThan(0.57);
    expect(counts.none / n).toBeLessThan(0.63);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const draws = (seed: string) => {
      const plan = createFaultPlan(rates, { baseMs: 0, jitterMs: 0 }, seededRandom(seed));
      return Array.from({ length: 50 }, () => plan.nextCreateFault());
    };
    expect(draws('a')).toEqual(draws('a'));
    expect(draws('a')).not.toEqual(draws('b'));
  });

  it('never faults with zero rates', () => {
    const plan = createFaultPlan(
      { reject: 0, error: 0, timeout: 0, duplicate: 0 },
      { baseMs: 0, jitterMs: 0 },
      seededRandom('x'),
    );
    for (let i = 0; i < 1000; i++) expect(plan.nextCreateFault()).toBe('none');
  });

  it('adds base latency plus jitter within [0, jitter]', () => {
    const plan = createFaultPlan(rates, { baseMs: 10, jitterMs: 5 }, seededRandom('lat'));
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const ms = plan.nextLatencyMs();
      expect(ms).toBeGreaterThanOrEqual(10);
      expect(ms).toBeLessThanOrEqual(15);
      seen.add(ms);
    }
    expect(seen.size).toBe(6);
  });
});

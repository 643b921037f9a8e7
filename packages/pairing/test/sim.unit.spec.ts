import { describe, expect, it } from 'vitest';
import { lichessMaxScore, lichessScore, lichessWavePolicy } from '../sim/policies.js';
import { summarise } from '../sim/report.js';
import { defaultSimulationOptions, runSimulation } from '../sim/run-simulation.js';
import { generateTrace } from '../sim/trace.js';

const small = { ...defaultSimulationOptions, rate: 2, duration: 300, seed: 7 };

describe('simulator', () => {
  it('generates the same trace for the same seed and a different one otherwise', () => {
    expect(generateTrace(small)).toEqual(generateTrace(small));
    expect(generateTrace({ ...small, seed: 8 })).not.toEqual(generateTrace(small));
    const trace = generateTrace(small);
    expect(trace.length).toBeGreaterThan(450);
    expect(trace.length).toBeLessThan(750);
    expect(trace.every((a) => a.cancelAt > a.at)).toBe(true);
  });

  it('runs three policies on one trace, deterministically, with consistent summaries', () => {
    const a = runSimulation(small);
    const b = runSimulation(small);
    expect(a.summaries).toEqual(b.summaries);
    expect(Object.keys(a.summaries)).toEqual(['seed-greedy', 'lichess-wave', 'ours']);
    for (const o of a.outcomes) {
      expect(o.arrivals).toBe(a.outcomes[0]!.arrivals);
      expect(o.matched).toBe(2 * o.matches.length);
      expect(o.matched).toBeLessThanOrEqual(o.arrivals);
      const s = summarise(o);
      expect(s.p50WaitS).toBeLessThanOrEqual(s.p95WaitS);
      expect(s.p95WaitS).toBeLessThanOrEqual(s.p99WaitS);
    }
    expect(a.svg).toMatch(/^<svg/);
    expect(a.svg).toContain('lichess-wave');
  });

  it('scores Lichess pairs with the miss bonus and the lower-rated threshold', () => {
    const w = (rating: number, missedWaves: number) => ({
      entry: { entryId: `${rating}`, userId: `${rating}`, rating, enqueuedAt: 0 },
      missedWaves,
    });
    expect(lichessScore(w(1500, 0), w(1600, 5))).toBe(100);
    expect(lichessScore(w(1500, 2), w(1600, 5))).toBe(100 - 24);
    expect(lichessScore(w(1500, 50), w(1600, 50))).toBe(100 - 400);
    expect(lichessMaxScore(900)).toBe(130);
    expect(lichessMaxScore(1400)).toBe(100);
    expect(lichessMaxScore(1800)).toBe(120);
    const pairs = lichessWavePolicy().pair([w(1500, 0), w(1510, 0), w(1900, 0)], 0);
    expect(pairs).toEqual([['1500', '1510']]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  covers,
  dominance,
  paretoFrontier,
  recommendedWindow,
  runSweep,
  type SweepPoint,
  strictlyBetter,
  sweepGrids,
} from '../sim/frontier.js';
import { runScenario, SCENARIOS, verdict } from '../sim/frontier-run.js';
import { frontierSvg } from '../sim/frontier-svg.js';
import { anyAllowedPair, oursPolicy } from '../sim/policies.js';
import type { PolicySummary } from '../sim/report.js';
import { simulate } from '../sim/simulate.js';
import { dayFactor, generateTrace } from '../sim/trace.js';
import { defaultPairingConfig, pairPool } from '../src/index.js';

const summary = (meanGap: number, p50WaitS: number, matchedPct = 99): PolicySummary => ({
  matchedPct,
  meanGap,
  p95Gap: 0,
  p50WaitS,
  p95WaitS: p50WaitS * 4,
  p99WaitS: p50WaitS * 5,
});
const point = (policy: SweepPoint['policy'], setting: string, gap: number, wait: number, matched = 99): SweepPoint => ({
  policy,
  setting,
  summary: summary(gap, wait, matched),
});

describe('frontier', () => {
  it('keeps exactly the points nothing else beats, by increasing wait', () => {
    const points = [
      point('ours', 'a', 50, 1),
      point('ours', 'b', 40, 2),
      point('ours', 'c', 45, 3), // beaten by b
      point('ours', 'd', 10, 9),
      point('ours', 'e', 50, 1.5), // beaten by a
      point('ours', 'f', 5, 30, 40), // matches too few players to count
    ];
    expect(paretoFrontier(points, 'p50WaitS').map((p) => p.setting)).toEqual(['a', 'b', 'd']);
    expect(paretoFrontier(points, 'p95WaitS').map((p) => p.setting)).toEqual(['a', 'b', 'd']);
  });

  it('says which anchor points no setting of ours covers', () => {
    const anchor = [point('lichess-wave', 'x', 60, 0.5), point('lichess-wave', 'y', 30, 5)];
    const ours = [point('ours', 'o1', 55, 0.5), point('ours', 'o2', 31, 4)];
    const d = dominance(ours, anchor, 'p50WaitS');
    expect(d.dominated).toBe(false);
    expect(d.uncovered.map((p) => p.setting)).toEqual(['y']);
    expect(dominance([...ours, point('ours', 'o3', 30, 5)], anchor, 'p50WaitS').dominated).toBe(true);
    expect(covers(summary(30, 5), summary(30, 5), 'p50WaitS')).toBe(true);
    expect(strictlyBetter(summary(30, 5), summary(30, 5))).toBe(false);
    expect(strictlyBetter(summary(29, 5), summary(30, 5))).toBe(true);
    expect(strictlyBetter(summary(29, 6), summary(30, 5))).toBe(false);
  });

  it('recommends a wider start where arrivals are rare', () => {
    const windows = [0.2, 1, 5, 20].map((r) => recommendedWindow(r).w0);
    expect(windows).toEqual([79, 62, 49, 40]);
    expect(recommendedWindow(1).policy).toBe('window@62/1/1/500');
  });
});

describe('traces and the pass skip', () => {
  it('draws the bimodal, heavy-tailed and day-shaped traces deterministically', () => {
    const base = { rate: 2, mean: 1500, sd: 350, cancelPerMin: 0.1, duration: 2000, seed: 3 };
    const bimodal = generateTrace({ ...base, ratings: 'bimodal' });
    expect(generateTrace({ ...base, ratings: 'bimodal' })).toEqual(bimodal);
    const middle = bimodal.filter((a) => a.rating > 1400 && a.rating < 1600).length;
    const mode = bimodal.filter((a) => a.rating > 1120 && a.rating < 1320).length;
    expect(mode).toBeGreaterThan(2 * middle);
    const heavy = generateTrace({ ...base, ratings: 'heavy-tailed' }).map((a) => a.rating);
    const normal = generateTrace(base).map((a) => a.rating);
    const far = (rs: number[]) => rs.filter((r) => Math.abs(r - 1500) > 3 * 350).length;
    expect(far(heavy)).toBeGreaterThan(far(normal) + 5);
    expect(Math.min(...heavy)).toBeGreaterThanOrEqual(100);
    const day = generateTrace({ ...base, curve: 'day' });
    const inWindow = (from: number, to: number) => day.filter((a) => a.at >= from * 1000 && a.at < to * 1000).length;
    expect(inWindow(500, 700)).toBeLessThan(inWindow(1500, 1700) / 3); // night trough vs evening peak
    expect(dayFactor(0.3)).toBeCloseTo(0.15);
    expect(dayFactor(0.8)).toBeCloseTo(1.85);
  });

  it('skips a pass only when pairPool would pair nobody', () => {
    const config = { ...defaultPairingConfig, initialWindow: 30, wideningStep: 1, wideningIntervalSeconds: 1 };
    for (let seed = 1; seed <= 200; seed++) {
      const trace = generateTrace({ rate: 1, mean: 1500, sd: 350, cancelPerMin: 0, duration: 8, seed });
      const waiting = trace.map((a) => ({
        entry: { entryId: a.id, userId: a.id, rating: a.rating, enqueuedAt: a.at },
        missedWaves: 0,
      }));
      const now = 9000;
      const paired = pairPool(
        waiting.map((w) => w.entry),
        now,
        config,
      ).pairs.length;
      expect(anyAllowedPair(waiting, now, config)).toBe(paired > 0);
    }
  });

  it('sweeps a small grid and runs a scenario with a verdict and a plot', () => {
    const trace = generateTrace({ rate: 2, mean: 1500, sd: 350, cancelPerMin: 0.1, duration: 200, seed: 5 });
    const grids = {
      seedGreedy: [[100, 25]] as [number, number][],
      lichessWave: [[12, 40]] as [number, number][],
      ours: [],
    };
    const points = runSweep(trace, 200, 600, grids);
    expect(points.map((p) => p.policy)).toEqual(['seed-greedy', 'lichess-wave']);
    const ours = simulate(trace, oursPolicy(defaultPairingConfig, 1, true), 200, 600);
    expect(ours.matched).toBeGreaterThan(trace.length / 2);
    expect(sweepGrids(true).ours.length).toBeLessThan(sweepGrids(false).ours.length);

    const result = runScenario(SCENARIOS[1]!, { arrivals: 150, quick: true, seed: 2, cancelPerMin: 0.1, maxWait: 600 });
    expect(result.recommended.setting).toBe('62 +1/s (recommended)');
    const v = verdict(result);
    expect(typeof v.dominates).toBe('boolean');
    expect(v.dominates).toBe(v.uncovered.length === 0 && v.recommendedBeatsDefaults);
    const svg = frontierSvg(
      [{ title: 'normal@1', points: result.points, recommended: result.recommended }],
      'p50WaitS',
      't',
    );
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('lichess-wave');
  });
});

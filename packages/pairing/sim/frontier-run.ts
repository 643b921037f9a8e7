import {
  dominance,
  oursWindow,
  paretoFrontier,
  recommendedWindow,
  runSweep,
  type SweepPoint,
  strictlyBetter,
  sweepGrids,
  type WaitAxis,
} from './frontier.js';
import { lichessWavePolicy, oursPolicy, seedGreedyPolicy } from './policies.js';
import type { PolicySummary } from './report.js';
import { type ArrivalCurve, generateTrace, type RatingDistribution } from './trace.js';

/** One trace of the frontier run. */
export interface Scenario {
  /** e.g. `normal@1`, `day@1`. */
  name: string;
  rate: number;
  ratings: RatingDistribution;
  curve: ArrivalCurve;
  /** Part of the goal (the four Poisson N(1500, 350) rates), or shown only. */
  goal: boolean;
}

export const GOAL_RATES = [0.2, 1, 5, 20] as const;

export const SCENARIOS: readonly Scenario[] = [
  ...GOAL_RATES.map(
    (rate): Scenario => ({ name: `normal@${rate}`, rate, ratings: 'normal', curve: 'flat', goal: true }),
  ),
  { name: 'bimodal@1', rate: 1, ratings: 'bimodal', curve: 'flat', goal: false },
  { name: 'heavy-tailed@1', rate: 1, ratings: 'heavy-tailed', curve: 'flat', goal: false },
  { name: 'day@1', rate: 1, ratings: 'normal', curve: 'day', goal: false },
];

export interface ScenarioResult {
  scenario: Scenario;
  arrivals: number;
  points: SweepPoint[];
  /** Our recommended default for the (mean) rate. */
  recommended: SweepPoint;
  /** The anchors at their own defaults: seed-greedy ±100 +25/10s, lichess-wave 12 s / 40. */
  anchorDefaults: { 'seed-greedy': PolicySummary; 'lichess-wave': PolicySummary };
}

export interface FrontierOptions {
  /** Arrivals per trace (the duration is arrivals / rate). */
  arrivals: number;
  quick: boolean;
  seed: number;
  cancelPerMin: number;
  maxWait: number;
}

/** Sweeps every policy on one scenario's trace. */
export function runScenario(s: Scenario, o: FrontierOptions): ScenarioResult {
  const duration = Math.ceil(o.arrivals / s.rate);
  const trace = generateTrace({
    rate: s.rate,
    mean: 1500,
    sd: 350,
    cancelPerMin: o.cancelPerMin,
    duration,
    seed: o.seed,
    ratings: s.ratings,
    curve: s.curve,
  });
  const rec = recommendedWindow(s.rate);
  const points = runSweep(trace, duration, o.maxWait, sweepGrids(o.quick), [
    {
      policy: 'ours',
      setting: `${rec.w0} +${rec.g}/s (recommended)`,
      make: () => oursPolicy(oursWindow(rec.w0, rec.g), 1, true),
    },
    { policy: 'seed-greedy', setting: '±100 +25/10s (default)', make: () => seedGreedyPolicy() },
    { policy: 'lichess-wave', setting: '12s/40 (default)', make: () => lichessWavePolicy() },
  ]);
  const find = (policy: SweepPoint['policy'], suffix: string) =>
    points.find((p) => p.policy === policy && p.setting.endsWith(suffix))!;
  return {
    scenario: s,
    arrivals: trace.length,
    points,
    recommended: find('ours', '(recommended)'),
    anchorDefaults: {
      'seed-greedy': find('seed-greedy', '(default)').summary,
      'lichess-wave': find('lichess-wave', '(default)').summary,
    },
  };
}

export interface ScenarioVerdict {
  /** Every point of both anchor frontiers (gap vs p50) covered by a setting of ours, and the recommended default strictly better than both anchor defaults. */
  dominates: boolean;
  frontierCovered: { 'seed-greedy': boolean; 'lichess-wave': boolean };
  /** Anchor frontier points no setting of ours covers (gap / p50). */
  uncovered: string[];
  recommendedBeatsDefaults: boolean;
  /** Same covering test against p95 wait (shown, not part of the goal). */
  p95Covered: boolean;
}

const fmt = (p: SweepPoint, axis: WaitAxis) =>
  `${p.policy} ${p.setting}: gap ${p.summary.meanGap}, ${axis === 'p50WaitS' ? 'p50' : 'p95'} ${p.summary[axis]} s`;

/** The verdict of one scenario, computed from its sweep. */
export function verdict(r: ScenarioResult): ScenarioVerdict {
  const ours = r.points.filter((p) => p.policy === 'ours');
  const anchors = ['seed-greedy', 'lichess-wave'] as const;
  const covered = (axis: WaitAxis) =>
    anchors.map((a) =>
      dominance(
        ours,
        paretoFrontier(
          r.points.filter((p) => p.policy === a),
          axis,
        ),
        axis,
      ),
    );
  const [seed, wave] = covered('p50WaitS');
  const recommendedBeatsDefaults =
    strictlyBetter(r.recommended.summary, r.anchorDefaults['seed-greedy']) &&
    strictlyBetter(r.recommended.summary, r.anchorDefaults['lichess-wave']);
  return {
    dominates: seed!.dominated && wave!.dominated && recommendedBeatsDefaults,
    frontierCovered: { 'seed-greedy': seed!.dominated, 'lichess-wave': wave!.dominated },
    uncovered: [...seed!.uncovered, ...wave!.uncovered].map((p) => fmt(p, 'p50WaitS')),
    recommendedBeatsDefaults,
    p95Covered: covered('p95WaitS').every((d) => d.dominated),
  };
}

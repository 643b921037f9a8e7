import { defaultPairingConfig, type PairingConfig } from '../src/index.js';
import { lichessWavePolicy, oursPolicy, type Policy, seedGreedyPolicy } from './policies.js';
import { type PolicySummary, summarise } from './report.js';
import { simulate } from './simulate.js';
import type { Arrival } from './trace.js';

/** The policies a frontier compares: the two anchors and ours. */
export type FrontierPolicy = 'seed-greedy' | 'lichess-wave' | 'ours';
export const FRONTIER_POLICIES: readonly FrontierPolicy[] = ['seed-greedy', 'lichess-wave', 'ours'];

/** One setting of one policy, run on a trace. */
export interface SweepPoint {
  policy: FrontierPolicy;
  /** The setting in words, e.g. `±100 +25/10s`, `12s/40`, `60 +0.5/s`. */
  setting: string;
  summary: PolicySummary;
}

/** The wait axis of a frontier. */
export type WaitAxis = 'p50WaitS' | 'p95WaitS';

/** The parameter grids of a sweep. */
export interface SweepGrids {
  /** seed-greedy: [initial half-window, widening step per 10 s] (1 s tick, no cap). */
  seedGreedy: [number, number][];
  /** lichess-wave: [wave interval s, wave size] (a wave also starts as soon as `size` wait). */
  lichessWave: [number, number][];
  /** ours: window settings, paired on every arrival and every 1 s. */
  ours: { setting: string; config: PairingConfig }[];
}

const cross = <A, B>(as: readonly A[], bs: readonly B[]): [A, B][] => as.flatMap((a) => bs.map((b): [A, B] => [a, b]));

/** Our window family: initial half-window w0, widened by g every second, capped at 500. */
export function oursWindow(w0: number, g: number): PairingConfig {
  return { ...defaultPairingConfig, initialWindow: w0, wideningStep: g, wideningIntervalSeconds: 1, maxWindow: 500 };
}

/** The grids of `pnpm sim --frontier` (`quick`: a coarser one for `--quick` and tests). */
export function sweepGrids(quick: boolean): SweepGrids {
  const seedW0 = quick ? [0, 50, 100, 200, 400] : [0, 25, 50, 75, 100, 150, 200, 300, 500];
  const seedStep = quick ? [10, 25, 50] : [5, 10, 25, 50, 100];
  const waveInterval = quick ? [2, 6, 12, 24, 48] : [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48];
  const waveSize = quick ? [10, 40, 1_000_000] : [8, 16, 40, 80, 160, 1_000_000];
  const oursW0 = quick
    ? [0, 10, 20, 30, 45, 60, 100, 150, 250]
    : [0, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100, 130, 170, 220, 300];
  const oursG = quick ? [0.25, 1, 4] : [0.1, 0.25, 0.5, 1, 3, 10];
  return {
    seedGreedy: cross(seedW0, seedStep),
    lichessWave: cross(waveInterval, waveSize),
    ours: cross(oursW0, oursG).map(([w0, g]) => ({ setting: `${w0} +${g}/s`, config: oursWindow(w0, g) })),
  };
}

const waveLabel = (interval: number, size: number) => `${interval}s/${size >= 1_000_000 ? '∞' : size}`;

/** Runs every setting of every policy on the trace (same arrivals, ratings and cancels for all). */
export function runSweep(
  trace: readonly Arrival[],
  durationSeconds: number,
  maxWaitSeconds: number,
  grids: SweepGrids,
  extra: { setting: string; policy: FrontierPolicy; make: () => Policy }[] = [],
): SweepPoint[] {
  const run = (policy: FrontierPolicy, setting: string, p: Policy): SweepPoint => ({
    policy,
    setting,
    summary: summarise(simulate(trace, p, durationSeconds, maxWaitSeconds)),
  });
  return [
    ...grids.seedGreedy.map(([w0, step]) => run('seed-greedy', `±${w0} +${step}/10s`, seedGreedyPolicy(w0, step))),
    ...grids.lichessWave.map(([interval, size]) =>
      run('lichess-wave', waveLabel(interval, size), lichessWavePolicy(interval, size)),
    ),
    ...grids.ours.map(({ setting, config }) => run('ours', setting, oursPolicy(config, 1, true))),
    ...extra.map((x) => run(x.policy, x.setting, x.make())),
  ];
}

/** `p` is at least as good as `q` on both axes (lower-or-equal mean gap and wait). */
export const covers = (p: PolicySummary, q: PolicySummary, axis: WaitAxis): boolean =>
  p.meanGap <= q.meanGap && p[axis] <= q[axis];

/**
 * The Pareto frontier of mean |Δrating| against a wait axis: the points no other point of the
 * list beats (lower-or-equal on both axes, lower on one), by increasing wait. Only settings that
 * match at least half of the arrivals count (a setting that times most players out has no
 * meaningful gap or wait).
 */
export function paretoFrontier(points: readonly SweepPoint[], axis: WaitAxis): SweepPoint[] {
  const usable = points.filter((p) => p.summary.matchedPct >= 50);
  const sorted = [...usable].sort((p, q) => p.summary[axis] - q.summary[axis] || p.summary.meanGap - q.summary.meanGap);
  const frontier: SweepPoint[] = [];
  let bestGap = Number.POSITIVE_INFINITY;
  for (const p of sorted) {
    if (p.summary.meanGap < bestGap) {
      frontier.push(p);
      bestGap = p.summary.meanGap;
    }
  }
  return frontier;
}

/** For every point of an anchor's frontier, whether one of `ours` covers it (and which). */
export function dominance(
  ours: readonly SweepPoint[],
  anchorFrontier: readonly SweepPoint[],
  axis: WaitAxis,
): { dominated: boolean; uncovered: SweepPoint[]; coveredBy: [SweepPoint, SweepPoint][] } {
  const usable = ours.filter((p) => p.summary.matchedPct >= 50);
  const uncovered: SweepPoint[] = [];
  const coveredBy: [SweepPoint, SweepPoint][] = [];
  for (const a of anchorFrontier) {
    const by = usable.find((o) => covers(o.summary, a.summary, axis));
    if (by) coveredBy.push([a, by]);
    else uncovered.push(a);
  }
  return { dominated: uncovered.length === 0, uncovered, coveredBy };
}

/**
 * Our recommended default for a pool with `rate` arrivals per second: a tight start that is
 * wider where arrivals are rare (`round(62 · rate^−0.15)`: 79 at 0.2/s, 62 at 1/s, 49 at 5/s,
 * 40 at 20/s) and a slow widening of 1 point per second (patience: at a busy pool a closer
 * opponent is likely to arrive within seconds, at a quiet one waiting buys little), capped at
 * 500, paired on every arrival. As a pool setting: `PAIRING_POLICIES=<pool>=window@<w0>/1/1/500`.
 */
export function recommendedWindow(rate: number): { w0: number; g: number; policy: string } {
  const w0 = Math.round(62 * rate ** -0.15);
  return { w0, g: 1, policy: `window@${w0}/1/1/500` };
}

/** `p` is at least as good as `q` on mean gap and p50 wait and better on one of them. */
export const strictlyBetter = (p: PolicySummary, q: PolicySummary): boolean =>
  covers(p, q, 'p50WaitS') && (p.meanGap < q.meanGap || p.p50WaitS < q.p50WaitS);

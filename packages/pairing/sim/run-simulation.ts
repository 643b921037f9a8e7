import { defaultPairingConfig, type PairingConfig } from '../src/index.js';
import { lichessWavePolicy, oursPolicy, seedGreedyPolicy } from './policies.js';
import { gapVersusWaitSvg, type PolicySummary, summarise } from './report.js';
import { type PolicyOutcome, simulate } from './simulate.js';
import { generateTrace, type TraceOptions } from './trace.js';

export interface SimulationOptions extends TraceOptions {
  /** Pass interval of `ours` in seconds. */
  interval: number;
  /** `ours` also runs a pass on every arrival. */
  immediate: boolean;
  /** Entries time out after this many seconds (the old design's MAX_QUEUE_TIME). */
  maxWait: number;
  ours: PairingConfig;
}

export const defaultSimulationOptions: SimulationOptions = {
  rate: 1,
  mean: 1500,
  sd: 350,
  cancelPerMin: 0.1,
  duration: 3600,
  seed: 1,
  interval: 1,
  immediate: false,
  maxWait: 600,
  ours: defaultPairingConfig,
};

export interface SimulationReport {
  outcomes: PolicyOutcome[];
  summaries: Record<string, PolicySummary>;
  svg: string;
}

/** Runs the three policies on the same trace. */
export function runSimulation(o: SimulationOptions): SimulationReport {
  const trace = generateTrace(o);
  const policies = [seedGreedyPolicy(), lichessWavePolicy(), oursPolicy(o.ours, o.interval, o.immediate)];
  const outcomes = policies.map((p) => simulate(trace, p, o.duration, o.maxWait));
  const summaries = Object.fromEntries(outcomes.map((x) => [x.policy, summarise(x)]));
  const title = `Rating gap vs wait — ${o.rate}/s, N(${o.mean}, ${o.sd}), ${o.duration} s, seed ${o.seed}`;
  return { outcomes, summaries, svg: gapVersusWaitSvg(outcomes, title) };
}

/**
 * `pnpm sim`: matchmaking simulator for tuning a pool. Runs seed-greedy, lichess-wave and ours on
 * the same arrival trace; prints a table, writes an SVG plot, and prints one JSON line last.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { frontierMain, runChild } from './frontier-cli.js';
import type { FrontierOptions } from './frontier-run.js';
import { defaultSimulationOptions, runSimulation } from './run-simulation.js';

const HELP = `Usage: pnpm sim [options]

  --rate <n>            arrivals per second (Poisson)                       [1]
  --mean <n>            mean rating                                          [1500]
  --sd <n>              rating standard deviation                            [350]
  --cancel-per-min <p>  probability a waiting player cancels within a minute [0.1]
  --interval <s>        pass interval of "ours" in seconds                   [1]
  --immediate           "ours" also runs a pass on every arrival
  --duration <s>        simulated seconds                                    [3600]
  --max-wait <s>        queue time-out for every policy                      [600]
  --initial-window <n>  ours: initial half-window                            [100]
  --widening-step <n>   ours: widening per interval                          [25]
  --widening-interval <s> ours: widening interval                            [10]
  --max-window <n>      ours: window cap                                     [500]
  --seed <n>            trace seed                                           [1]
  --out <dir>           folder for the SVG plot(s)         [sim-out/; --frontier: docs/]
  --help                this text

  --frontier            sweep every policy's settings on 7 traces (Poisson N(1500, 350) at
                        0.2, 1, 5 and 20 per second; bimodal, heavy-tailed and a day-shaped
                        arrival curve at 1 per second), print each Pareto frontier of mean
                        |Δrating| against p50 wait, write pairing-frontier-p50.svg and
                        pairing-frontier-p95.svg, end with {"dominates": {"0.2": …, …}, …}
  --quick               coarser grids and 1,500 arrivals per trace (with --frontier)
  --arrivals <n>        arrivals per trace (with --frontier)                  [4000]
  --jobs <n>            traces simulated at once, in child processes          [2]

Policies: seed-greedy (old design: oldest first, ±100 +25/10 s, 1 s tick), lichess-wave (waves
every 12 s or at 40 waiting; score |Δr| − min(miss); threshold of the lower-rated player;
max-cardinality min-score matching) and ours (global weighted matching per pass).`;

const { values } = parseArgs({
  options: {
    rate: { type: 'string' },
    mean: { type: 'string' },
    sd: { type: 'string' },
    'cancel-per-min': { type: 'string' },
    interval: { type: 'string' },
    immediate: { type: 'boolean' },
    duration: { type: 'string' },
    'max-wait': { type: 'string' },
    'initial-window': { type: 'string' },
    'widening-step': { type: 'string' },
    'widening-interval': { type: 'string' },
    'max-window': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
    frontier: { type: 'boolean' },
    quick: { type: 'boolean' },
    arrivals: { type: 'string' },
    jobs: { type: 'string' },
    'frontier-child': { type: 'string' },
    'frontier-options': { type: 'string' },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function num(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) {
    console.error(`--${name} must be a number`);
    process.exit(2);
  }
  return v;
}

const d = defaultSimulationOptions;

if (values['frontier-child']) {
  runChild(values['frontier-child'], JSON.parse(values['frontier-options'] ?? '{}') as FrontierOptions);
} else if (values.frontier) {
  const quick = values.quick ?? false;
  const frontierOptions: FrontierOptions = {
    arrivals: num('arrivals', values.arrivals, quick ? 1500 : 4000),
    quick,
    seed: num('seed', values.seed, d.seed),
    cancelPerMin: num('cancel-per-min', values['cancel-per-min'], d.cancelPerMin),
    maxWait: num('max-wait', values['max-wait'], d.maxWait),
  };
  await frontierMain(frontierOptions, num('jobs', values.jobs, 2), resolve(values.out ?? (quick ? 'sim-out' : 'docs')));
} else {
  singleRun();
}

function singleRun(): void {
  const options = {
    rate: num('rate', values.rate, d.rate),
    mean: num('mean', values.mean, d.mean),
    sd: num('sd', values.sd, d.sd),
    cancelPerMin: num('cancel-per-min', values['cancel-per-min'], d.cancelPerMin),
    interval: num('interval', values.interval, d.interval),
    immediate: values.immediate ?? d.immediate,
    duration: num('duration', values.duration, d.duration),
    maxWait: num('max-wait', values['max-wait'], d.maxWait),
    seed: num('seed', values.seed, d.seed),
    ours: {
      ...d.ours,
      initialWindow: num('initial-window', values['initial-window'], d.ours.initialWindow),
      wideningStep: num('widening-step', values['widening-step'], d.ours.wideningStep),
      wideningIntervalSeconds: num('widening-interval', values['widening-interval'], d.ours.wideningIntervalSeconds),
      maxWindow: num('max-window', values['max-window'], d.ours.maxWindow),
    },
  };

  const started = performance.now();
  const report = runSimulation(options);
  const outDir = resolve(values.out ?? 'sim-out');
  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, `gap-vs-wait-rate${options.rate}-seed${options.seed}.svg`);
  writeFileSync(svgPath, report.svg);

  const rows = Object.entries(report.summaries);
  console.log(
    `trace: ${report.outcomes[0]!.arrivals} arrivals over ${options.duration} s (${((performance.now() - started) / 1000).toFixed(1)} s to simulate)`,
  );
  console.log('policy        matched%  meanGap  p95Gap  p50Wait(s)  p95Wait(s)  p99Wait(s)');
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(12)}  ${String(s.matchedPct).padStart(8)}  ${String(s.meanGap).padStart(7)}  ${String(s.p95Gap).padStart(6)}  ${String(s.p50WaitS).padStart(10)}  ${String(s.p95WaitS).padStart(10)}  ${String(s.p99WaitS).padStart(10)}`,
    );
  }
  const ours = report.summaries.ours!;
  const goal = {
    lowerMeanGapThanSeedGreedy: ours.meanGap < report.summaries['seed-greedy']!.meanGap,
    lowerP50WaitThanLichessWave: ours.p50WaitS < report.summaries['lichess-wave']!.p50WaitS,
  };
  console.log(`goal: ${JSON.stringify(goal)}`);
  console.log(`plot: ${svgPath}`);
  console.log(JSON.stringify({ ...report.summaries, goal }));
}

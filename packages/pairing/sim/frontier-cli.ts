/**
 * `pnpm sim --frontier`: sweeps every policy's settings on each scenario's trace (in `--jobs`
 * child processes), prints each frontier and the verdicts, writes the two SVG plots and ends
 * with one JSON line: `{"dominates": {"0.2": …, "1": …, "5": …, "20": …}, …}`.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paretoFrontier, recommendedWindow, type WaitAxis } from './frontier.js';
import { type FrontierOptions, runScenario, SCENARIOS, type ScenarioResult, verdict } from './frontier-run.js';
import { frontierSvg } from './frontier-svg.js';

/** Child mode: run one scenario and send the result to the parent. */
export function runChild(name: string, options: FrontierOptions): void {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const result = runScenario(scenario, options);
  process.send?.(result, () => process.exit(0));
}

async function runAll(options: FrontierOptions, jobs: number): Promise<ScenarioResult[]> {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const results = new Array<ScenarioResult>(SCENARIOS.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < SCENARIOS.length) {
      const index = next++;
      const scenario = SCENARIOS[index]!;
      const started = performance.now();
      results[index] = await new Promise<ScenarioResult>((resolve, reject) => {
        const child = fork(cli, ['--frontier-child', scenario.name, '--frontier-options', JSON.stringify(options)], {
          execArgv: process.execArgv,
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        let got: ScenarioResult | undefined;
        child.on('message', (m) => {
          got = m as ScenarioResult;
        });
        child.on('error', reject);
        child.on('exit', (code) =>
          got ? resolve(got) : reject(new Error(`scenario ${scenario.name} exited with ${code} and no result`)),
        );
      });
      console.error(`  ${scenario.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, SCENARIOS.length)) }, worker));
  return results;
}

export async function frontierMain(options: FrontierOptions, jobs: number, outDir: string): Promise<void> {
  const started = performance.now();
  console.error(
    `frontier: ${SCENARIOS.length} traces × ${options.arrivals} arrivals, ${options.quick ? 'quick' : 'full'} grids, ${jobs} jobs`,
  );
  const results = await runAll(options, jobs);
  const verdicts = results.map(verdict);
  for (const [k, r] of results.entries()) {
    const v = verdicts[k]!;
    console.log(`\n== ${r.scenario.name} (${r.arrivals} arrivals${r.scenario.goal ? '' : ', shown only'})`);
    for (const policy of ['seed-greedy', 'lichess-wave', 'ours'] as const) {
      const frontier = paretoFrontier(
        r.points.filter((p) => p.policy === policy),
        'p50WaitS',
      );
      console.log(
        `${policy.padEnd(12)} ${frontier.map((p) => `${p.setting} ${p.summary.meanGap}@${p.summary.p50WaitS}s`).join(' | ')}`,
      );
    }
    const rec = r.recommended.summary;
    const d = r.anchorDefaults;
    console.log(
      `recommended  ${r.recommended.setting}: gap ${rec.meanGap}, p50 ${rec.p50WaitS} s, p95 ${rec.p95WaitS} s, matched ${rec.matchedPct} % ` +
        `(seed-greedy default ${d['seed-greedy'].meanGap}@${d['seed-greedy'].p50WaitS}s p95 ${d['seed-greedy'].p95WaitS}s; ` +
        `lichess-wave default ${d['lichess-wave'].meanGap}@${d['lichess-wave'].p50WaitS}s p95 ${d['lichess-wave'].p95WaitS}s)`,
    );
    console.log(
      `verdict      dominates ${v.dominates} (frontiers covered: seed-greedy ${v.frontierCovered['seed-greedy']}, lichess-wave ${v.frontierCovered['lichess-wave']}; recommended beats both defaults ${v.recommendedBeatsDefaults}; p95 frontiers covered ${v.p95Covered})`,
    );
    for (const u of v.uncovered) console.log(`  not covered: ${u}`);
  }
  mkdirSync(outDir, { recursive: true });
  const panels = results.map((r) => ({
    title: `${r.scenario.name}/s${r.scenario.goal ? '' : ' (shown only)'}`,
    points: r.points,
    recommended: r.recommended,
  }));
  const files: Record<WaitAxis, string> = {
    p50WaitS: join(outDir, 'pairing-frontier-p50.svg'),
    p95WaitS: join(outDir, 'pairing-frontier-p95.svg'),
  };
  for (const axis of ['p50WaitS', 'p95WaitS'] as const) {
    const label = axis === 'p50WaitS' ? 'p50' : 'p95';
    writeFileSync(
      files[axis],
      frontierSvg(
        panels,
        axis,
        `Pareto frontiers: mean |Δrating| vs ${label} wait (pnpm sim --frontier${options.quick ? ' --quick' : ''}, ${options.arrivals} arrivals per trace, seed ${options.seed})`,
      ),
    );
  }
  console.log(`\nplots: ${files.p50WaitS}, ${files.p95WaitS}`);
  const goal = results.flatMap((r, k) => (r.scenario.goal ? [[r, verdicts[k]!] as const] : []));
  const summary = {
    dominates: Object.fromEntries(goal.map(([r, v]) => [String(r.scenario.rate), v.dominates])),
    recommended: Object.fromEntries(
      goal.map(([r]) => [
        String(r.scenario.rate),
        {
          policy: recommendedWindow(r.scenario.rate).policy,
          meanGap: r.recommended.summary.meanGap,
          p50WaitS: r.recommended.summary.p50WaitS,
          p95WaitS: r.recommended.summary.p95WaitS,
          matchedPct: r.recommended.summary.matchedPct,
        },
      ]),
    ),
    uncovered: Object.fromEntries(goal.map(([r, v]) => [String(r.scenario.rate), v.uncovered])),
    p95_covered: Object.fromEntries(goal.map(([r, v]) => [String(r.scenario.rate), v.p95Covered])),
    traces: Object.fromEntries(
      results.flatMap((r, k) => (r.scenario.goal ? [] : [[r.scenario.name, verdicts[k]!.dominates]])),
    ),
    arrivals_per_trace: options.arrivals,
    quick: options.quick,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  console.log(JSON.stringify(summary));
}

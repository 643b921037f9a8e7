/**
 * `pnpm bench:pairing`: ours vs the old greedy design vs the edmonds-blossom reference on random
 * pools (seeded; ratings ~ N(1500, 350), waits 0–120 s). Table on stdout, progress on stderr,
 * last line one JSON object.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { mulberry32, normal } from '@mm/testing/random';
import {
  defaultPairingConfig,
  greedyOldestFirst,
  type PairingResult,
  PairingThread,
  type PoolEntry,
  pairPool,
} from '../src/index.js';
import { compatible, preparePool, weightOf } from '../src/pool/prepared-pool.js';

const NOW = 1_700_000_000_000;
const SIZES = [100, 1_000, 10_000, 100_000];
const BLOSSOM_BUDGET_MS = 30_000;
const config = defaultPairingConfig;

function randomPool(size: number, seed: number): PoolEntry[] {
  const random = mulberry32(seed);
  return Array.from({ length: size }, (_, i) => ({
    entryId: `e${i}`,
    userId: `u${i}`,
    rating: Math.round(1500 + 350 * normal(random)),
    enqueuedAt: NOW - Math.floor(random() * 120_000),
  }));
}

interface Row {
  algorithm: string;
  n: number;
  ms: number | null;
  note?: string;
  weight?: number;
  pairs?: number;
  meanGap?: number;
  p95Gap?: number;
  upperBound?: number;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function gaps(pairs: { ratingGap: number }[]): { mean: number; p95: number } {
  if (pairs.length === 0) return { mean: 0, p95: 0 };
  const g = pairs.map((p) => p.ratingGap).sort((a, b) => a - b);
  return {
    mean: g.reduce((s, x) => s + x, 0) / g.length,
    p95: g[Math.min(g.length - 1, Math.floor(0.95 * g.length))]!,
  };
}

function timed<T>(reps: number, fn: () => T): { ms: number; value: T } {
  const times: number[] = [];
  let value!: T;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    value = fn();
    times.push(performance.now() - t);
  }
  return { ms: median(times), value };
}

function resultRow(algorithm: string, n: number, ms: number, r: PairingResult): Row {
  const g = gaps(r.pairs.map((p) => p.explanation));
  return {
    algorithm,
    n,
    ms,
    weight: r.stats.totalWeight,
    pairs: r.pairs.length,
    meanGap: g.mean,
    p95Gap: g.p95,
    upperBound: r.stats.upperBound,
  };
}

interface BlossomRun {
  ms: number;
  weight: number;
  pairs: number;
  gaps: number[];
}

/** The reference on the full graph, in a worker stopped after the budget (null = timed out). */
async function runBlossom(entries: PoolEntry[]): Promise<BlossomRun | null> {
  const pool = preparePool(entries, NOW, config);
  const edges: number[][] = [];
  for (let i = 0; i < pool.size; i++) {
    for (let j = i + 1; j < pool.size && pool.rating[j]! <= pool.high[i]!; j++) {
      if (compatible(pool, i, j)) edges.push([i, j, weightOf(pool, i, j)]);
    }
  }
  const worker = new Worker(new URL('./blossom-worker.mjs', import.meta.url), { workerData: edges });
  const outcome = await new Promise<{ mate: number[]; ms: number } | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(null);
    }, BLOSSOM_BUDGET_MS);
    worker.once('message', (m: { mate: number[]; ms: number }) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  if (!outcome) return null;
  let weight = 0;
  const gapList: number[] = [];
  for (const [i, j, w] of edges) {
    if (outcome.mate[i!] === j) {
      weight += w!;
      gapList.push(Math.abs(pool.rating[i!]! - pool.rating[j!]!));
    }
  }
  return { ms: outcome.ms, weight, pairs: gapList.length, gaps: gapList };
}

const rows: Row[] = [];
const oursExact: boolean[] = [];
/** Warm-up passes before measuring: about a second's worth of passes, at least one. */
const warmUps = (n: number): number => (n <= 1_000 ? 30 : n <= 10_000 ? 5 : 1);
let lastBlossom: { n: number; ms: number; timedOut: boolean } | null = null;
for (const n of SIZES) {
  const entries = randomPool(n, 20_240_601 + n);
  const reps = n >= 100_000 ? 5 : n >= 10_000 ? 9 : 15;
  process.stderr.write(`n=${n}: ours…\n`);
  // Warm-up passes first (the JIT's steady state, as in a worker that pairs every second).
  for (let w = 0; w < warmUps(n); w++) pairPool(entries, NOW, config);
  const ours = timed(reps, () => {
    const result = pairPool(entries, NOW, config);
    oursExact.push(result.stats.exact);
    return result;
  });
  rows.push(resultRow('ours', n, ours.ms, ours.value));
  process.stderr.write(`n=${n}: greedy…\n`);
  const greedy = timed(Math.max(3, Math.floor(reps / 2)), () => greedyOldestFirst(entries, NOW, config));
  rows.push(resultRow('greedy-oldest-first', n, greedy.ms, greedy.value));
  // The reference port is roughly cubic: estimate from the last size it finished (or the budget
  // it exceeded), and skip sizes it clearly cannot finish within the budget.
  const estimate = lastBlossom ? lastBlossom.ms * (n / lastBlossom.n) ** 3 : 0;
  // The next size after a finished one is always tried (the worker is stopped at the budget).
  if (lastBlossom && (lastBlossom.timedOut || estimate > 100 * BLOSSOM_BUDGET_MS)) {
    rows.push({ algorithm: 'edmonds-blossom', n, ms: null, note: `skipped (est. ${(estimate / 1000).toFixed(0)} s)` });
    continue;
  }
  process.stderr.write(`n=${n}: edmonds-blossom (budget ${BLOSSOM_BUDGET_MS / 1000} s)…\n`);
  const ref = await runBlossom(entries);
  if (!ref) {
    lastBlossom = { n, ms: BLOSSOM_BUDGET_MS, timedOut: true };
    rows.push({ algorithm: 'edmonds-blossom', n, ms: null, note: `timed out (> ${BLOSSOM_BUDGET_MS / 1000} s)` });
    continue;
  }
  lastBlossom = { n, ms: ref.ms, timedOut: false };
  const g = gaps(ref.gaps.map((ratingGap) => ({ ratingGap })));
  rows.push({
    algorithm: 'edmonds-blossom',
    n,
    ms: ref.ms,
    weight: ref.weight,
    pairs: ref.pairs,
    meanGap: g.mean,
    p95Gap: g.p95,
  });
}

// Scenarios: "dense" (everyone waited 200–600 s: windows at the cap) and "wave" (everyone just arrived).
// `exact_all`: every measured pass of ours (each repetition) certified optimal by its duals.
const exactFlags: boolean[] = [...oursExact];
function scenario(name: string, n: number, shape: (e: PoolEntry, i: number) => PoolEntry): number {
  const entries = randomPool(n, 31 + n).map(shape);
  for (let w = 0; w < warmUps(n); w++) pairPool(entries, NOW, config);
  const run = timed(n >= 10_000 ? 5 : 11, () => {
    const result = pairPool(entries, NOW, config);
    exactFlags.push(result.stats.exact);
    return result;
  });
  process.stderr.write(`${name} n=${n}: ${run.ms.toFixed(1)} ms, exact ${run.value.stats.exact}\n`);
  return run.ms;
}
const dense = (e: PoolEntry, i: number) => ({ ...e, enqueuedAt: NOW - 200_000 - ((i * 7919) % 400_000) });
const wave = (e: PoolEntry) => ({ ...e, enqueuedAt: NOW });
const denseMs = scenario('dense', 1_000, dense);
const denseMs10k = scenario('dense', 10_000, dense);
const denseMs100k = scenario('dense', 100_000, dense);
const waveMs1k = scenario('wave', 1_000, wave);
const waveMs10k = scenario('wave', 10_000, wave);
const waveMs100k = scenario('wave', 100_000, wave);

// The event loop while a 100k pass runs in the pairing thread (as the pairing worker does it).
const thread = new PairingThread();
await thread.pair(randomPool(10, 1), NOW, config);
const big = randomPool(100_000, 20_240_601 + 100_000);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const offStart = performance.now();
await thread.pair(big, NOW, config);
const offMs = performance.now() - offStart;
delay.disable();
await thread.close();
const loopDelayP99 = delay.percentile(99) / 1e6;
process.stderr.write(
  `100k pass in the thread: ${offMs.toFixed(0)} ms, event-loop delay p99 ${loopDelayP99.toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms\n`,
);

const find = (algorithm: string, n: number) => rows.find((r) => r.algorithm === algorithm && r.n === n);
const header = ['n', 'algorithm', 'median ms', 'pairs', 'total weight', 'w / ours', 'mean gap', 'p95 gap', 'note'];
const lines = rows.map((r) => {
  const ours = find('ours', r.n)!;
  return [
    String(r.n),
    r.algorithm,
    r.ms === null ? '—' : r.ms.toFixed(1),
    r.pairs === undefined ? '—' : String(r.pairs),
    r.weight === undefined ? '—' : String(r.weight),
    r.weight === undefined ? '—' : (r.weight / ours.weight!).toFixed(9),
    r.meanGap === undefined ? '—' : r.meanGap.toFixed(1),
    r.p95Gap === undefined ? '—' : r.p95Gap.toFixed(0),
    r.note ??
      (r.algorithm === 'ours' && r.upperBound !== undefined && r.upperBound !== r.weight
        ? `gap to dual bound ${((r.upperBound - r.weight!) / r.upperBound).toExponential(2)}`
        : r.algorithm === 'ours'
          ? 'exact'
          : ''),
  ];
});
const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
const fmt = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
console.log(fmt(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const l of lines) console.log(fmt(l));

const ours1k = find('ours', 1_000)!;
const ref1k = find('edmonds-blossom', 1_000)!;
const ours10k = find('ours', 10_000)!;
const greedy10k = find('greedy-oldest-first', 10_000)!;
const ours100k = find('ours', 100_000)!;
console.log(
  JSON.stringify({
    n1k_ms: Number(ours1k.ms!.toFixed(2)),
    n10k_ms: Number(ours10k.ms!.toFixed(2)),
    n100k_ms: Number(ours100k.ms!.toFixed(2)),
    // When the reference timed out, the speed-up is a lower bound (budget / ours).
    speedup_vs_blossom_n1k: Number(((ref1k.ms ?? BLOSSOM_BUDGET_MS) / ours1k.ms!).toFixed(2)),
    speedup_vs_blossom_n1k_is_lower_bound: ref1k.ms === null,
    weight_ratio_vs_blossom_n1k: ref1k.weight === undefined ? null : ours1k.weight! / ref1k.weight,
    mean_gap_vs_greedy: Number((ours10k.meanGap! / greedy10k.meanGap!).toFixed(4)),
    n100k_gap_to_bound: (ours100k.upperBound! - ours100k.weight!) / ours100k.upperBound!,
    dense_n1k_ms: Number(denseMs.toFixed(2)),
    dense_n10k_ms: Number(denseMs10k.toFixed(2)),
    dense_n100k_ms: Number(denseMs100k.toFixed(2)),
    wave_n1k_ms: Number(waveMs1k.toFixed(2)),
    wave_n10k_ms: Number(waveMs10k.toFixed(2)),
    wave_n100k_ms: Number(waveMs100k.toFixed(2)),
    exact_all: exactFlags.every(Boolean),
    loop_delay_p99_ms: Number(loopDelayP99.toFixed(2)),
    n100k_thread_ms: Number(offMs.toFixed(0)),
    // The machine's 1-minute load average at the end (timings are medians on a shared machine).
    load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
  }),
);

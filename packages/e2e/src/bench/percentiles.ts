/** Nearest-rank percentile of `values` (not necessarily sorted); null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface Summary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export const summarize = (values: readonly number[]): Summary => ({
  count: values.length,
  p50: round(percentile(values, 50)),
  p99: round(percentile(values, 99)),
  max: round(values.length ? Math.max(...values) : null),
});

const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

/** One measured match: when its second join was committed (epoch ms) and how long MatchCreated took. */
export interface MatchSample {
  joinedAt: number;
  ms: number;
}

/**
 * The match latency over time, in buckets of `bucketMs` by second join: count, p50, p99, max per
 * bucket, with the faults that started in it — to see whether the slow tail follows the faults
 * (a stall after each) or the load (every bucket slow).
 */
export function latencyTimeline(
  samples: readonly MatchSample[],
  faults: readonly { kind: string; target: string; start: number }[],
  from: number,
  bucketMs = 5000,
): { from_s: number; matches: number; p50: number | null; p99: number | null; max: number | null; faults: string[] }[] {
  const buckets = new Map<number, number[]>();
  for (const s of samples) {
    const k = Math.floor((s.joinedAt - from) / bucketMs);
    const list = buckets.get(k) ?? [];
    list.push(s.ms);
    buckets.set(k, list);
  }
  const keys = [...buckets.keys(), ...faults.map((f) => Math.floor((f.start - from) / bucketMs))];
  if (keys.length === 0) return [];
  const out = [];
  for (let k = Math.max(0, Math.min(...keys)); k <= Math.max(...keys); k++) {
    const summary = summarize(buckets.get(k) ?? []);
    out.push({
      from_s: (k * bucketMs) / 1000,
      matches: buckets.get(k)?.length ?? 0,
      p50: summary.p50,
      p99: summary.p99,
      max: summary.max,
      faults: faults
        .filter((f) => Math.floor((f.start - from) / bucketMs) === k)
        .map((f) => (f.kind === 'sigkill' ? `kill ${f.target}` : `${f.kind} ${f.target}`)),
    });
  }
  return out;
}

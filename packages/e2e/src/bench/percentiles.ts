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

import { ALGORITHM_VERSION, type PairingConfig } from './config.js';
import type { PoolEntry } from './pool/pool-entry.js';
import { type PreparedPool, preparePool, weightOf } from './pool/prepared-pool.js';
import type { RatingWindow } from './pool/rating-window.js';
import { solveCertified } from './solve/certified.js';

/** Why two entries were paired: everything an auditor needs to re-check the decision. */
export interface PairExplanation {
  /** |rating(a) − rating(b)|. */
  ratingGap: number;
  /** Each side's window at decision time (a's, then b's). */
  windows: [RatingWindow, RatingWindow];
  /** Each side's wait at decision time in ms (a's, then b's). */
  waitsMs: [number, number];
  /** The pair's edge weight in this pass (see README "Weight function"). */
  weight: number;
  algorithmVersion: string;
}

/** Two paired entries; `a` has the smaller entryId. */
export interface Pair {
  a: PoolEntry;
  b: PoolEntry;
  explanation: PairExplanation;
}

export interface PairingResult {
  /** Ordered by the longer wait of the pair (oldest first), then by a's entryId. */
  pairs: Pair[];
  /** Ordered oldest first, then by entryId. */
  unpaired: PoolEntry[];
  stats: {
    entries: number;
    /** Pairs in the final candidate graph (the first sparse graph plus the pairs priced in). */
    edges: number;
    /** True when the matching is a proven maximum-weight matching of the whole pool. */
    exact: boolean;
    totalWeight: number;
    /** An upper bound on the optimum (equal to totalWeight when exact). */
    upperBound?: number;
    components?: number;
    durationHint?: never;
  };
}

/**
 * Pairs a pool snapshot: a maximum-weight matching on the graph of allowed pairs, whose weights
 * encode (1) most pairs, (2) long waiters before new arrivals, (3) smallest total rating gap.
 * Exact at every size, certified by its duals (`stats.exact`; `stats.upperBound` is the dual
 * objective, equal to the weight): see `solve/certified.ts`.
 * Pure and deterministic: the same entries (in any order) and `now` give the same result.
 */
export function pairPool(entries: readonly PoolEntry[], now: number, config: PairingConfig): PairingResult {
  const pool = preparePool(entries, now, config);
  const mate = new Int32Array(pool.size).fill(-1);
  const solved = solveCertified(pool, mate);
  return buildResult(pool, mate, {
    entries: pool.size,
    edges: solved.edges,
    exact: solved.certified,
    totalWeight: solved.weight,
    upperBound: solved.dualValue,
  });
}

function windowOf(pool: PreparedPool, i: number): RatingWindow {
  return { low: pool.low[i]!, high: pool.high[i]!, halfWidth: pool.halfWidth[i]! };
}

export function buildResult(pool: PreparedPool, mate: Int32Array, stats: PairingResult['stats']): PairingResult {
  const pairs: Pair[] = [];
  const unpaired: PoolEntry[] = [];
  for (let i = 0; i < pool.size; i++) {
    const j = mate[i]!;
    if (j === -1) {
      unpaired.push(pool.entries[i]!);
      continue;
    }
    if (j < i) continue;
    const [x, y] = pool.entries[i]!.entryId < pool.entries[j]!.entryId ? [i, j] : [j, i];
    pairs.push({
      a: pool.entries[x]!,
      b: pool.entries[y]!,
      explanation: {
        ratingGap: Math.abs(pool.rating[x]! - pool.rating[y]!),
        windows: [windowOf(pool, x), windowOf(pool, y)],
        waitsMs: [pool.waitMs[x]!, pool.waitMs[y]!],
        weight: weightOf(pool, x, y),
        algorithmVersion: ALGORITHM_VERSION,
      },
    });
  }
  // Oldest first, then by a's entryId: sorted through flat keys (no property reads per comparison).
  const count = pairs.length;
  const oldest = new Float64Array(count);
  const ids: string[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const p = pairs[k]!;
    oldest[k] = Math.min(p.a.enqueuedAt, p.b.enqueuedAt);
    ids[k] = p.a.entryId;
  }
  const order = new Uint32Array(count);
  for (let k = 0; k < count; k++) order[k] = k;
  order.sort((x, y) => oldest[x]! - oldest[y]! || (ids[x]! < ids[y]! ? -1 : ids[x]! > ids[y]! ? 1 : 0));
  const sorted: Pair[] = new Array(count);
  for (let k = 0; k < count; k++) sorted[k] = pairs[order[k]!]!;
  unpaired.sort((p, q) => p.enqueuedAt - q.enqueuedAt || (p.entryId < q.entryId ? -1 : p.entryId > q.entryId ? 1 : 0));
  return { pairs: sorted, unpaired, stats };
}

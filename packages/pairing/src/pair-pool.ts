import { ALGORITHM_VERSION, type PairingConfig } from './config.js';
import type { PoolEntry } from './pool/pool-entry.js';
import { type PreparedPool, preparePool, weightOf } from './pool/prepared-pool.js';
import type { RatingWindow } from './pool/rating-window.js';
import { allEdges, candidatePairBound } from './solve/all-edges.js';
import { solveComponentsExactly } from './solve/exact-components.js';
import { solveLarge } from './solve/large-component.js';

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
    /** Allowed pairs considered (all of them on the exact path; candidates on the large path). */
    edges: number;
    /** True when the matching is a proven maximum-weight matching of the whole pool. */
    exact: boolean;
    totalWeight: number;
    /** An upper bound on the optimum (equal to totalWeight when exact). */
    upperBound?: number;
    /** Connected components with at least one allowed pair (when they were computed). */
    components?: number;
    durationHint?: never;
  };
}

/** Components up to this size are solved with the exact blossom matcher. */
export const EXACT_COMPONENT_LIMIT = 1000;

/** Pools whose allowed pairs may exceed this count skip full enumeration (large-pool method). */
export const FULL_EDGE_BUDGET = 1_000_000;

/**
 * Pairs a pool snapshot: a maximum-weight matching on the graph of allowed pairs, whose weights
 * encode (1) most pairs, (2) long waiters before new arrivals, (3) smallest total rating gap.
 * Pure and deterministic: the same entries (in any order) and `now` give the same result.
 */
export function pairPool(entries: readonly PoolEntry[], now: number, config: PairingConfig): PairingResult {
  const pool = preparePool(entries, now, config);
  const mate = new Int32Array(pool.size).fill(-1);
  let exact = true;
  let edges = 0;
  let components: number | undefined;
  let totalWeight = 0;
  let upperBound = 0;
  if (candidatePairBound(pool) <= FULL_EDGE_BUDGET) {
    const all = allEdges(pool);
    edges = all.edgeCount;
    const split = solveComponentsExactly(pool.size, all, mate, EXACT_COMPONENT_LIMIT);
    components = split.components;
    totalWeight += split.exactWeight;
    upperBound += split.exactWeight;
    for (const vertices of split.oversized) {
      const large = solveLarge(pool, vertices, mate);
      exact = false;
      totalWeight += large.weight;
      upperBound += large.upperBound;
    }
  } else {
    const everyone = new Int32Array(pool.size);
    for (let i = 0; i < pool.size; i++) everyone[i] = i;
    const large = solveLarge(pool, everyone, mate);
    exact = false;
    edges = large.edges;
    totalWeight = large.weight;
    upperBound = large.upperBound;
  }
  return buildResult(pool, mate, { entries: pool.size, edges, exact, totalWeight, upperBound, components });
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
  const oldest = (p: Pair): number => Math.min(p.a.enqueuedAt, p.b.enqueuedAt);
  pairs.sort((p, q) => oldest(p) - oldest(q) || (p.a.entryId < q.a.entryId ? -1 : p.a.entryId > q.a.entryId ? 1 : 0));
  unpaired.sort((p, q) => p.enqueuedAt - q.enqueuedAt || (p.entryId < q.entryId ? -1 : p.entryId > q.entryId ? 1 : 0));
  return { pairs, unpaired, stats };
}

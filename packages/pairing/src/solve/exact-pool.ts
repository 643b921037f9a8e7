import { type MatchingWithDuals, maxWeightMatchingWithDuals } from '../matching/max-weight-matching.js';
import { compatible, lowerBound, type PreparedPool, upperBound, weightOf } from '../pool/prepared-pool.js';
import { gapPoints } from '../weight/weight.js';
import { allEdges } from './all-edges.js';
import { EdgeList } from './edge-list.js';

/** Nearest allowed partners per side that seed the sparse graph. */
const SEED_NEIGHBOURS = 6;
/** Pricing rounds before falling back to the full graph (never reached in our benchmarks). */
const MAX_PRICING_ROUNDS = 12;

export interface ExactSolveResult {
  weight: number;
  /** Edges in the graph that was finally solved (sparse graph plus priced-in edges). */
  edges: number;
  pricingRounds: number;
}

/**
 * Exact maximum-weight matching of the whole pool without building the whole (dense) graph:
 * solve on a sparse graph (nearest allowed partners on each side), then "price" every allowed
 * pair against the optimal duals of that solution. A pair whose reduced cost is non-negative
 * cannot improve the matching (LP duality for Edmonds' odd-set polytope); violating pairs are
 * added and the sparse problem solved again. When no allowed pair violates the duals, the
 * matching is optimal for the full graph. Pricing only inspects pairs whose rating gap is small
 * enough to possibly violate (see README), so it stays near-linear in practice.
 */
export function solveExact(pool: PreparedPool, mate: Int32Array): ExactSolveResult {
  const size = pool.size;
  const edges = new EdgeList(Math.max(64, size * SEED_NEIGHBOURS * 2));
  const present = new Set<number>();
  const add = (i: number, j: number): void => {
    const key = i < j ? i * size + j : j * size + i;
    if (present.has(key)) return;
    present.add(key);
    edges.push(i, j, weightOf(pool, i, j));
  };
  seedEdges(pool, add);
  for (let round = 1; ; round++) {
    const solved = maxWeightMatchingWithDuals({ vertexCount: size, ...edgeArrays(edges) });
    const before = edges.edgeCount;
    if (round > MAX_PRICING_ROUNDS) {
      return finish(pool, mate, solveFull(pool), round);
    }
    priceAllPairs(pool, solved, present, add);
    if (edges.edgeCount === before) {
      mate.set(solved.mate);
      return { weight: matchingWeight(pool, solved.mate), edges: edges.edgeCount, pricingRounds: round };
    }
  }
}

function edgeArrays(edges: EdgeList) {
  return { from: edges.from, to: edges.to, weight: edges.weight, edgeCount: edges.edgeCount };
}

function solveFull(pool: PreparedPool): { mate: Int32Array; edges: number } {
  const all = allEdges(pool);
  return {
    mate: maxWeightMatchingWithDuals({ vertexCount: pool.size, ...edgeArrays(all) }).mate,
    edges: all.edgeCount,
  };
}

function finish(pool: PreparedPool, mate: Int32Array, full: { mate: Int32Array; edges: number }, rounds: number) {
  mate.set(full.mate);
  return { weight: matchingWeight(pool, full.mate), edges: full.edges, pricingRounds: rounds };
}

function matchingWeight(pool: PreparedPool, mate: Int32Array): number {
  let total = 0;
  for (let i = 0; i < mate.length; i++) {
    const j = mate[i]!;
    if (j > i) total += weightOf(pool, i, j);
  }
  return total;
}

function seedEdges(pool: PreparedPool, add: (i: number, j: number) => void): void {
  const { rating, low, high, size } = pool;
  for (let i = 0; i < size; i++) {
    if (low[i]! > high[i]!) continue;
    let found = 0;
    for (let j = Math.max(i + 1, lowerBound(rating, low[i]!, 0, size)); j < size && rating[j]! <= high[i]!; j++) {
      if (!compatible(pool, i, j)) continue;
      add(i, j);
      if (++found >= SEED_NEIGHBOURS) break;
    }
    found = 0;
    for (let j = i - 1; j >= 0 && rating[j]! >= low[i]!; j--) {
      if (!compatible(pool, i, j)) continue;
      add(j, i);
      if (++found >= SEED_NEIGHBOURS) break;
    }
  }
}

/** Sum of the duals of the blossoms containing both i and j. */
function sharedBlossomDual(solved: MatchingWithDuals, i: number, j: number): number {
  const parent = solved.blossomParent;
  if (parent[i] === -1 || parent[j] === -1) return 0;
  const chain = (v: number): number[] => {
    const out: number[] = [];
    for (let b = parent[v]!; b !== -1; b = parent[b]!) out.push(b);
    return out.reverse();
  };
  const ci = chain(i);
  const cj = chain(j);
  let total = 0;
  for (let k = 0; k < ci.length && k < cj.length && ci[k] === cj[k]; k++) total += solved.dual[ci[k]!]!;
  return total;
}

/**
 * Adds every allowed pair whose reduced cost under the duals is negative. With
 * B(i) = dual(i) − C − 2U·q(i), a pair can only violate when 2(G − gap) > B(i) + B(j); checking
 * from the side with the smaller B, it suffices to scan gaps below G − B(i) + 1.
 */
function priceAllPairs(
  pool: PreparedPool,
  solved: MatchingWithDuals,
  present: Set<number>,
  add: (i: number, j: number) => void,
): void {
  const { rating, low, high, size, scales, priority } = pool;
  const reduced = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    reduced[i] = solved.dual[i]! - scales.pairBonus - 2 * scales.waitUnit * priority[i]!;
  }
  for (let i = 0; i < size; i++) {
    if (low[i]! > high[i]!) continue;
    const radius = scales.gapCap - reduced[i]! + 1;
    if (radius < 0) continue;
    const from = lowerBound(rating, Math.max(low[i]!, rating[i]! - radius), 0, size);
    const to = upperBound(rating, Math.min(high[i]!, rating[i]! + radius), from, size);
    for (let j = from; j < to; j++) {
      if (j === i || reduced[j]! < reduced[i]! || (reduced[j] === reduced[i] && j < i)) continue;
      const key = i < j ? i * size + j : j * size + i;
      if (present.has(key) || !compatible(pool, i, j)) continue;
      const twiceGain = 2 * (scales.gapCap - Math.min(scales.gapCap, gapPoints(rating[i]! - rating[j]!)));
      if (twiceGain <= reduced[i]! + reduced[j]!) continue;
      const slack = solved.dual[i]! + solved.dual[j]! - 2 * weightOf(pool, i, j) + 2 * sharedBlossomDual(solved, i, j);
      if (slack < 0) add(i, j);
    }
  }
}

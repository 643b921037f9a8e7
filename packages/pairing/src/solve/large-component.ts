import { maxWeightMatching } from '../matching/max-weight-matching.js';
import { compatible, lowerBound, type PreparedPool, weightOf } from '../pool/prepared-pool.js';
import { gapPoints } from '../weight/weight.js';
import { EdgeList } from './edge-list.js';

/** Tuning of the large-pool method; the defaults are what `pairPool` uses. */
export interface LargeMethodOptions {
  /**
   * How many positions back (in rating order) the sequential dynamic programme looks for a partner.
   * @defaultValue 12
   */
  lookback: number;
  /**
   * Allowed partners kept per entry (nearest first, upwards in rating) for the repair step.
   * @defaultValue 8
   */
  candidatesPerEntry: number;
  /**
   * Positions inspected per entry when collecting candidates (bounds the work on hostile pools).
   * @defaultValue 64
   */
  scanLimit: number;
  /**
   * Half-width, in positions, of the exactly re-solved neighbourhood around an unpaired entry.
   * @defaultValue 24
   */
  repairRadius: number;
  /**
   * Largest neighbourhood (vertices) handed to the exact matcher in one piece.
   * @defaultValue 800
   */
  maxRegion: number;
}

export const defaultLargeMethodOptions: LargeMethodOptions = Object.freeze({
  lookback: 12,
  candidatesPerEntry: 8,
  scanLimit: 64,
  repairRadius: 24,
  maxRegion: 800,
});

export interface LargeSolveResult {
  /** Candidate edges generated. */
  edges: number;
  /** Total weight of the matching found. */
  weight: number;
  /** A dual (LP) upper bound on the optimum of this part of the pool. */
  upperBound: number;
}

/**
 * Near-optimal matching for a part of the pool too large for the exact matcher.
 *
 * 1. A dynamic programme over the rating order finds the best *sequential* matching (every
 *    pair's partners are at most `lookback` positions apart and pairs do not interleave), which
 *    is optimal for pure rating gaps and handles cardinality and wait priority exactly within
 *    that class. O(n · lookback).
 * 2. Repair: around every entry left unpaired that has an allowed partner, the neighbourhood of
 *    ±`repairRadius` positions is re-solved exactly (blossom matcher on the candidate edges plus
 *    the current pairs); the result replaces the old one only when its weight is larger, so the
 *    weight never decreases.
 *
 * `positions` are ascending indices into the prepared pool (one component, or the whole pool).
 */
export function solveLarge(
  pool: PreparedPool,
  positions: Int32Array,
  mate: Int32Array,
  options: LargeMethodOptions = defaultLargeMethodOptions,
): LargeSolveResult {
  const count = positions.length;
  const rating = new Float64Array(count);
  for (let t = 0; t < count; t++) rating[t] = pool.rating[positions[t]!]!;
  const localMate = sequentialMatching(pool, positions, options.lookback);
  const candidates = candidateEdges(pool, positions, rating, options);
  repair(pool, positions, localMate, candidates, options);
  let weight = 0;
  for (let t = 0; t < count; t++) {
    const p = localMate[t]!;
    if (p < 0) continue;
    mate[positions[t]!] = positions[p]!;
    if (t < p) weight += weightOf(pool, positions[t]!, positions[p]!);
  }
  return { edges: candidates.edges.edgeCount, weight, upperBound: dualUpperBound(pool, positions, rating) };
}

/** Best matching whose pairs are non-interleaving and at most `lookback` apart (rating order). */
function sequentialMatching(pool: PreparedPool, positions: Int32Array, lookback: number): Int32Array {
  const count = positions.length;
  const best = new Float64Array(count + 1);
  const choice = new Int32Array(count + 1).fill(-1);
  for (let t = 1; t <= count; t++) {
    const i = t - 1;
    let value = best[t - 1]!;
    let partner = -1;
    const gi = positions[i]!;
    for (let s = i - 1, stop = Math.max(0, i - lookback); s >= stop; s--) {
      const gs = positions[s]!;
      if (!compatible(pool, gs, gi)) continue;
      const v = best[s]! + weightOf(pool, gs, gi);
      if (v > value) {
        value = v;
        partner = s;
      }
    }
    best[t] = value;
    choice[t] = partner;
  }
  const localMate = new Int32Array(count).fill(-1);
  for (let t = count; t > 0; ) {
    const s = choice[t]!;
    if (s < 0) {
      t--;
      continue;
    }
    localMate[t - 1] = s;
    localMate[s] = t - 1;
    t = s;
  }
  return localMate;
}

interface Candidates {
  /** Edges (local indices, from < to), grouped by `from` in ascending order. */
  edges: EdgeList;
  /** `edges` index range of vertex t's forward edges: [start[t], start[t + 1]). */
  start: Int32Array;
  /** 1 when the vertex has at least one allowed partner among the candidates. */
  hasPartner: Uint8Array;
}

function candidateEdges(
  pool: PreparedPool,
  positions: Int32Array,
  rating: Float64Array,
  options: LargeMethodOptions,
): Candidates {
  const count = positions.length;
  const edges = new EdgeList(Math.max(64, count * options.candidatesPerEntry));
  const start = new Int32Array(count + 1);
  const hasPartner = new Uint8Array(count);
  for (let t = 0; t < count; t++) {
    start[t] = edges.edgeCount;
    const g = positions[t]!;
    const low = pool.low[g]!;
    const high = pool.high[g]!;
    if (low > high) continue;
    let found = 0;
    let scanned = 0;
    for (let u = Math.max(t + 1, lowerBound(rating, low, 0, count)); u < count && rating[u]! <= high; u++) {
      if (++scanned > options.scanLimit) break;
      const gu = positions[u]!;
      if (!compatible(pool, g, gu)) continue;
      edges.push(t, u, weightOf(pool, g, gu));
      hasPartner[t] = 1;
      hasPartner[u] = 1;
      if (++found >= options.candidatesPerEntry) break;
    }
  }
  start[count] = edges.edgeCount;
  return { edges, start, hasPartner };
}

function repair(
  pool: PreparedPool,
  positions: Int32Array,
  localMate: Int32Array,
  candidates: Candidates,
  options: LargeMethodOptions,
): void {
  const count = positions.length;
  const radius = options.repairRadius;
  let regionLow = -1;
  let regionHigh = -1;
  for (let t = 0; t <= count; t++) {
    const defect = t < count && localMate[t] === -1 && candidates.hasPartner[t] === 1;
    if (defect) {
      const lo = Math.max(0, t - radius);
      const hi = Math.min(count - 1, t + radius);
      if (regionLow >= 0 && lo <= regionHigh + 1 && hi - regionLow + 1 <= options.maxRegion) {
        regionHigh = hi;
        continue;
      }
    }
    if (regionLow >= 0 && (defect || t === count)) {
      resolveRegion(pool, positions, localMate, candidates, regionLow, regionHigh);
      regionLow = -1;
    }
    if (defect) {
      regionLow = Math.max(0, t - radius);
      regionHigh = Math.min(count - 1, t + radius);
    }
  }
}

/** Re-solves positions [lo, hi] exactly (pairs leaving the range stay as they are). */
function resolveRegion(
  pool: PreparedPool,
  positions: Int32Array,
  localMate: Int32Array,
  candidates: Candidates,
  lo: number,
  hi: number,
): void {
  const span = hi - lo + 1;
  const sub = new Int32Array(span).fill(-1);
  const members: number[] = [];
  for (let t = lo; t <= hi; t++) {
    const p = localMate[t]!;
    if (p === -1 || (p >= lo && p <= hi)) {
      sub[t - lo] = members.length;
      members.push(t);
    }
  }
  const edges = new EdgeList(64);
  let oldWeight = 0;
  const { from, to, weight } = candidates.edges;
  for (const t of members) {
    const p = localMate[t]!;
    let pairListed = p < t;
    for (let k = candidates.start[t]!, end = candidates.start[t + 1]!; k < end; k++) {
      const u = to[k]!;
      if (u > hi || sub[u - lo] === -1) continue;
      edges.push(sub[t - lo]!, sub[u - lo]!, weight[k]!);
      if (u === p) pairListed = true;
      if (from[k] !== t) throw new Error('candidate edges out of order');
    }
    if (p > t) {
      const w = weightOf(pool, positions[t]!, positions[p]!);
      oldWeight += w;
      if (!pairListed) edges.push(sub[t - lo]!, sub[p - lo]!, w);
    }
  }
  if (edges.edgeCount === 0) return;
  const solved = maxWeightMatching({
    vertexCount: members.length,
    from: edges.from,
    to: edges.to,
    weight: edges.weight,
    edgeCount: edges.edgeCount,
  });
  let newWeight = 0;
  for (let a = 0; a < members.length; a++) {
    const b = solved[a]!;
    if (b > a) newWeight += weightOf(pool, positions[members[a]!]!, positions[members[b]!]!);
  }
  if (newWeight <= oldWeight) return;
  for (const t of members) localMate[t] = -1;
  for (let a = 0; a < members.length; a++) {
    const b = solved[a]!;
    if (b >= 0) localMate[members[a]!] = members[b]!;
  }
}

/**
 * A feasible solution of the dual of the fractional matching LP, hence an upper bound on any
 * matching's weight: u(v) = C/2 + U·q(v) + (G − round d(v))/2 for every entry v with an allowed
 * partner, where d(v) is the gap to its nearest allowed partner; 0 for isolated entries.
 * For an allowed pair, u(a) + u(b) ≥ w(a, b) because d(a), d(b) ≤ |r(a) − r(b)|.
 * The scan is capped; beyond the cap the gap to the first unscanned entry is used instead
 * (a smaller d only loosens the bound).
 */
export function dualUpperBound(pool: PreparedPool, positions: Int32Array, rating: Float64Array): number {
  const { pairBonus, waitUnit, gapCap } = pool.scales;
  const limit = 256;
  const count = positions.length;
  let total = 0;
  for (let t = 0; t < count; t++) {
    const g = positions[t]!;
    const low = pool.low[g]!;
    const high = pool.high[g]!;
    if (low > high) continue;
    const r = rating[t]!;
    let nearest = Number.POSITIVE_INFINITY;
    let open = false;
    let scanned = 0;
    for (let u = t - 1; u >= 0 && rating[u]! >= low && r - rating[u]! < nearest; u--) {
      if (++scanned > limit) {
        nearest = Math.min(nearest, r - rating[u]!);
        open = true;
        break;
      }
      if (compatible(pool, g, positions[u]!)) nearest = r - rating[u]!;
    }
    scanned = 0;
    for (let u = t + 1; u < count && rating[u]! <= high && rating[u]! - r < nearest; u++) {
      if (++scanned > limit) {
        nearest = Math.min(nearest, rating[u]! - r);
        open = true;
        break;
      }
      if (compatible(pool, g, positions[u]!)) nearest = rating[u]! - r;
    }
    if (nearest === Number.POSITIVE_INFINITY && !open) continue;
    const d = Math.min(gapCap, gapPoints(nearest));
    total += pairBonus / 2 + waitUnit * pool.priority[g]! + (gapCap - d) / 2;
  }
  return total;
}

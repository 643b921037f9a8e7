import { type DualCertificate, PrimalDualMatcher } from '../matching/primal-dual-matcher.js';
import { compatible, lowerBound, type PreparedPool, weightOf } from '../pool/prepared-pool.js';
import { EdgeList } from './edge-list.js';
import { pricePairs } from './pricing.js';
import { Scratch } from './scratch.js';

export { pricePairs };

/** This module's arrays and candidate list, kept between passes (see {@link Scratch}). */
const scratch = new Scratch();
const candidateList = new EdgeList(64);

/**
 * Allowed partners per entry (nearest upwards in rating order) in the first candidate graph: 3
 * since `mwm-4` (6 before). The optimum rarely needs more, and the pricing adds any allowed pair
 * the duals violate; with 3 the matcher scans half the edges (solve of 10,000 / 100,000 random
 * entries ~15–25 % faster, still one pricing round in every bench scenario; 2 was a little faster
 * again but leaves less room before a pool needs a second round, 1 needs one always).
 */
const FORWARD_CANDIDATES = 3;
/** Positions inspected per entry when collecting them (bounds the work on hostile pools). */
const SCAN_LIMIT = 64;
/** Pricing rounds before giving up the certificate (never reached in our tests and benches). */
const MAX_ROUNDS = 8;

export interface CertifiedSolveResult {
  weight: number;
  /** The dual objective (an upper bound on every matching's weight; equal to `weight` when certified). */
  dualValue: number;
  /** True when the duals are feasible for every allowed pair and their objective equals the weight. */
  certified: boolean;
  /** Edges of the final candidate graph. */
  edges: number;
  /** Solve + pricing rounds. */
  rounds: number;
  /** Searches (defects of the warm starts) over all rounds. */
  searches: number;
  /** The final duals (doubled, over the prepared pool's order). */
  certificate: DualCertificate;
}

/**
 * The exact maximum-weight matching of a whole pool, with its LP certificate.
 *
 * 1. Candidate graph: each entry's 3 nearest allowed partners upwards in rating order.
 * 2. Warm start: doubled duals `Y(v) = C + 2U·q(v) + h(v)`, `h(v)` = the best gap term of v's
 *    candidate edges (so every edge is feasible, and a pair is tight exactly when it is the
 *    best for both sides); the tight pairs are matched greedily (and the previous round's pairs
 *    kept when still tight). Free entries with a partner are the defects.
 * 3. {@link PrimalDualMatcher} repairs the defects (one alternating tree each).
 * 4. Pricing: every allowed pair is checked against the final duals — without enumerating them:
 *    a pair between two entries outside non-trivial blossoms can only violate when its gap is
 *    below `G − h` of the side with the smaller `h`, so a small rating radius is scanned; an entry
 *    inside a non-trivial blossom scans its window skipping the runs of its own blossom (whose
 *    pairs are checked with the blossom's dual, again by radius). Violating pairs join the
 *    candidate graph and the pool is solved again (warm from the current pairs).
 * When no pair violates and the dual objective equals the weight, the matching is optimal.
 */
export function solveCertified(pool: PreparedPool, mate: Int32Array): CertifiedSolveResult {
  const edges = candidateEdges(pool);
  let previous: Int32Array | null = null;
  let searches = 0;
  for (let round = 1; ; round++) {
    const matcher = new PrimalDualMatcher({
      vertexCount: pool.size,
      from: edges.from,
      to: edges.to,
      weight: edges.weight,
      edgeCount: edges.edgeCount,
    });
    const start = warmStart(pool, matcher, previous);
    matcher.warmStart(start.mate, start.dual);
    const cert = matcher.solve();
    searches += cert.searches;
    const violated = pricePairs(pool, cert);
    const weight = matchingWeight(pool, cert.mate);
    if (violated.length === 0 || round >= MAX_ROUNDS) {
      mate.set(cert.mate);
      const dual4 = dualObjective4(pool.size, cert);
      const dualValue = Number(dual4) / 4;
      return {
        weight,
        dualValue,
        certified: violated.length === 0 && dual4 === 4n * BigInt(weight) && dualsNonNegative(pool.size, cert),
        edges: edges.edgeCount,
        rounds: round,
        searches,
        certificate: cert,
      };
    }
    for (let k = 0; k < violated.length; k += 2) {
      edges.push(violated[k]!, violated[k + 1]!, weightOf(pool, violated[k]!, violated[k + 1]!));
    }
    previous = cert.mate;
  }
}

function candidateEdges(pool: PreparedPool): EdgeList {
  const { rating, low, high, size } = pool;
  const edges = candidateList;
  edges.reset(size * FORWARD_CANDIDATES);
  for (let i = 0; i < size; i++) {
    if (low[i]! > high[i]!) continue;
    let found = 0;
    let scanned = 0;
    for (let j = Math.max(i + 1, lowerBound(rating, low[i]!, 0, size)); j < size && rating[j]! <= high[i]!; j++) {
      if (++scanned > SCAN_LIMIT) break;
      if (!compatible(pool, i, j)) continue;
      edges.push(i, j, weightOf(pool, i, j));
      if (++found >= FORWARD_CANDIDATES) break;
    }
  }
  return edges;
}

/** The gap term of an edge weight: w − C − U·(q(i) + q(j)) = G − gap. */
function gapTerm(pool: PreparedPool, i: number, j: number, w: number): number {
  const { pairBonus, waitUnit } = pool.scales;
  return w - pairBonus - waitUnit * (pool.priority[i]! + pool.priority[j]!);
}

function warmStart(
  pool: PreparedPool,
  matcher: PrimalDualMatcher,
  previous: Int32Array | null,
): { mate: Int32Array; dual: Float64Array } {
  const { size, scales, priority } = pool;
  const { endpoint, w, adj, adjStart } = matcher;
  const best = scratch.float64('best', size).fill(-1);
  for (let k = 0; k < matcher.m; k++) {
    const i = endpoint[2 * k]!;
    const j = endpoint[2 * k + 1]!;
    const g = gapTerm(pool, i, j, w[k]!);
    if (g > best[i]!) best[i] = g;
    if (g > best[j]!) best[j] = g;
  }
  const dual = scratch.float64('dual', size).fill(0);
  for (let v = 0; v < size; v++) {
    if (best[v]! >= 0) dual[v] = scales.pairBonus + 2 * scales.waitUnit * priority[v]! + best[v]!;
  }
  const mate = scratch.int32('mate', size).fill(-1);
  const tight = (v: number, p: number): boolean => {
    const u = endpoint[p]!;
    return dual[v]! + dual[u]! === 2 * w[p >> 1]!;
  };
  if (previous) {
    for (let v = 0; v < size; v++) {
      const u = previous[v]!;
      if (u <= v || mate[v] !== -1 || mate[u] !== -1) continue;
      for (let a = adjStart[v]!, end = adjStart[v + 1]!; a < end; a++) {
        const p = adj[a]!;
        if (endpoint[p] === u && tight(v, p)) {
          mate[v] = u;
          mate[u] = v;
          break;
        }
      }
    }
  }
  for (let v = 0; v < size; v++) {
    if (mate[v] !== -1 || dual[v] === 0) continue;
    for (let a = adjStart[v]!, end = adjStart[v + 1]!; a < end; a++) {
      const p = adj[a]!;
      const u = endpoint[p]!;
      if (mate[u] === -1 && tight(v, p)) {
        mate[v] = u;
        mate[u] = v;
        break;
      }
    }
  }
  // A free entry's dual drops to the least feasible value: max over its edges of 2w − Y(other).
  // When that edge leads to another free entry, it is tight: the two are matched (one search less
  // for each, and smaller duals for the searches left).
  for (let v = 0; v < size; v++) {
    if (mate[v] !== -1 || dual[v] === 0) continue;
    let least = 0;
    let partner = -1;
    for (let a = adjStart[v]!, end = adjStart[v + 1]!; a < end; a++) {
      const p = adj[a]!;
      const need = 2 * w[p >> 1]! - dual[endpoint[p]!]!;
      if (need > least || (need === least && partner !== -1 && mate[partner] !== -1 && mate[endpoint[p]!] === -1)) {
        least = need;
        partner = endpoint[p]!;
      }
    }
    dual[v] = least;
    if (partner !== -1 && mate[partner] === -1 && least > 0) {
      mate[v] = partner;
      mate[partner] = v;
    }
  }
  return { mate, dual };
}

export function matchingWeight(pool: PreparedPool, mate: Int32Array): number {
  let total = 0;
  for (let i = 0; i < mate.length; i++) {
    const j = mate[i]!;
    if (j > i) total += weightOf(pool, i, j);
  }
  return total;
}

function dualsNonNegative(n: number, cert: DualCertificate): boolean {
  for (let x = 0; x < 2 * n; x++) if (cert.dual[x]! < 0) return false;
  for (let v = 0; v < n; v++) if (cert.mate[v] === -1 && cert.dual[v] !== 0) return false;
  return true;
}

/**
 * Four times the dual objective, exactly: Σ Y(v) + Σ Z(B)·(|B| − 1)/2 over the doubled duals,
 * each term doubled (duals can be half-integers when trees meet). The objective of a 100,000-entry
 * pool is near 2^52, where a double no longer holds halves, so the integer terms are summed in two
 * doubles, a high part (multiples of 2^26) and a low part kept below 2^26, and joined as a BigInt
 * once at the end (a BigInt per term cost ~5 % of a 10,000-entry pass).
 */
export function dualObjective4(n: number, cert: DualCertificate): bigint {
  const parent = cert.blossomParent;
  const leaves = scratch.int32('leaves', 2 * n).fill(0);
  const pending = scratch.int32('pending', 2 * n).fill(0);
  for (let x = 0; x < 2 * n; x++) if (parent[x] !== -1) pending[parent[x]!]!++;
  const queue = scratch.int32('queue', 2 * n);
  let tail = 0;
  for (let v = 0; v < n; v++) {
    leaves[v] = 1;
    queue[tail++] = v;
  }
  let high = 0;
  let low = 0;
  const add = (term: number, times: number): void => {
    // term: a non-negative integer below 2^53; times: below 2^26.
    const h = Math.floor(term / SPLIT);
    high += h * times;
    low += (term - h * SPLIT) * times;
    if (low >= SPLIT) {
      const carry = Math.floor(low / SPLIT);
      high += carry;
      low -= carry * SPLIT;
    }
  };
  for (let q = 0; q < tail; q++) {
    const x = queue[q]!;
    const d = cert.dual[x]!;
    if (d < 0) return dualObjective4Slow(n, cert);
    if (x < n) add(2 * d, 1);
    else if (d !== 0) add(2 * d, (leaves[x]! - 1) / 2);
    const p = parent[x]!;
    if (p === -1) continue;
    leaves[p]! += leaves[x]!;
    if (--pending[p]! === 0) queue[tail++] = p;
  }
  return BigInt(high) * BigInt(SPLIT) + BigInt(low);
}

const SPLIT = 2 ** 26;

/** {@link dualObjective4} with a BigInt per term (negative duals: the certificate fails anyway). */
function dualObjective4Slow(n: number, cert: DualCertificate): bigint {
  const parent = cert.blossomParent;
  const leaves = new Int32Array(2 * n);
  const pending = new Int32Array(2 * n);
  for (let x = 0; x < 2 * n; x++) if (parent[x] !== -1) pending[parent[x]!]!++;
  const queue: number[] = [];
  for (let v = 0; v < n; v++) {
    leaves[v] = 1;
    queue.push(v);
  }
  let total = 0n;
  for (let q = 0; q < queue.length; q++) {
    const x = queue[q]!;
    if (x < n) total += BigInt(2 * cert.dual[x]!);
    else if (cert.dual[x] !== 0) total += BigInt(2 * cert.dual[x]!) * BigInt((leaves[x]! - 1) / 2);
    const p = parent[x]!;
    if (p === -1) continue;
    leaves[p]! += leaves[x]!;
    if (--pending[p]! === 0) queue.push(p);
  }
  return total;
}

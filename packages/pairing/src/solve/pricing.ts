import type { DualCertificate } from '../matching/primal-dual-matcher.js';
import { compatible, lowerBound, type PreparedPool, upperBound, weightOf } from '../pool/prepared-pool.js';
import { Scratch } from './scratch.js';

/**
 * Pricing: every allowed pair whose doubled slack under the duals is negative, as a flat list
 * [i0, j0, i1, j1, …] (i < j). Empty means the duals are feasible for the whole pool.
 *
 * No pair is enumerated blindly. With `k(v) = Y(v) − C − 2U·q(v)` (the vertex dual less its
 * pair and wait parts) the doubled slack of an allowed pair is
 * `k(i) + k(j) + S(B) − 2G + 2·round|r(i) − r(j)|`, where B is the innermost blossom of positive
 * dual containing both (their LCA in the blossom forest, blossoms of zero dual left out) and
 * `S(B)` the sum of the duals of B and its ancestors (0 outside every blossom). So a pair whose
 * LCA is B can only violate when `k(j) ± 2r(j) < 2G + m − S(B) − k(i) ± 2r(i)` (j right / left
 * of i in rating order; m = 0 for whole ratings, where this is the slack itself, else 2 to cover
 * the rounding of the gap and of the sums): a threshold query on a min-segment tree over the
 * rating order, which reports only such j.
 *
 * Every pair is priced exactly once at its LCA, by small-to-large over the blossom forest
 * ("sack"): at node B, after its heavy child's leaves are in the tree, each light child's leaves
 * query the tree and are then inserted, so a query meets exactly the leaves of B's other
 * children already visited. Each vertex is inserted and queried O(log n) times:
 * O(n log² n + reported) in all, whatever the nesting of the blossoms.
 */
export function pricePairs(pool: PreparedPool, cert: DualCertificate): number[] {
  const { rating, low, high, size: n, scales, priority } = pool;
  const { dual, blossomParent } = cert;
  const G = scales.gapCap;
  const WORLD = 2 * n;
  // Nearest ancestor with a non-zero dual (WORLD when none), for vertices and blossoms.
  const up = scratch.int32('up', 2 * n + 1).fill(-2);
  const chain: number[] = [];
  const upOf = (x0: number): number => {
    let x = x0;
    while (up[x] === -2) {
      chain.push(x);
      const p = blossomParent[x]!;
      if (p === -1 || dual[p] !== 0) {
        up[x] = p === -1 ? WORLD : p;
        break;
      }
      x = p;
    }
    const answer = up[x]!;
    for (const y of chain) up[y] = answer;
    chain.length = 0;
    return answer;
  };
  // Forest nodes: vertices, blossoms of positive dual that contain a vertex, WORLD.
  const childCount = scratch.int32('childCount', 2 * n + 2).fill(0);
  const inForest = scratch.uint8('inForest', 2 * n + 1).fill(0);
  inForest[WORLD] = 1;
  const pendingAll = scratch.int32('pending', 2 * n + 1);
  let pendingCount = 0;
  for (let v = 0; v < n; v++) {
    inForest[v] = 1;
    pendingAll[pendingCount++] = v;
  }
  for (let q = 0; q < pendingCount; q++) {
    const x = pendingAll[q]!;
    const p = upOf(x);
    childCount[p + 1]!++;
    if (!inForest[p]) {
      inForest[p] = 1;
      pendingAll[pendingCount++] = p;
    }
  }
  const pending = pendingAll.subarray(0, pendingCount);
  for (let x = 0; x <= WORLD; x++) childCount[x + 1]! += childCount[x]!;
  const childStart = childCount;
  const children = scratch.int32('children', childStart[WORLD + 1]!);
  const fill = scratch.int32('fill', WORLD + 1);
  fill.set(childStart.subarray(0, WORLD + 1));
  for (let q = 0; q < pendingCount; q++) {
    const x = pending[q]!;
    const p = up[x]!;
    children[fill[p]!++] = x;
  }
  // S(B): the blossom's dual plus its ancestors' (memoised along `up`).
  const sum = scratch.float64('sum', 2 * n + 1).fill(Number.NaN);
  sum[WORLD] = 0;
  const sumOf = (x0: number): number => {
    let x = x0;
    while (Number.isNaN(sum[x]!)) {
      chain.push(x);
      x = up[x]!;
    }
    let s = sum[x]!;
    for (let k = chain.length - 1; k >= 0; k--) {
      const y = chain[k]!;
      s += dual[y]!;
      sum[y] = s;
    }
    chain.length = 0;
    return sum[x0]!;
  };
  // Leaves in DFS order (each node's leaves contiguous), leaf counts and heavy children.
  const leafOrder = scratch.int32('leafOrder', n);
  const first = scratch.int32('first', 2 * n + 1).fill(0);
  const last = scratch.int32('last', 2 * n + 1).fill(0);
  const heavy = scratch.int32('heavy', 2 * n + 1).fill(-1);
  {
    let next = 0;
    const stack = [WORLD];
    const iter = scratch.int32('iter', 2 * n + 1).fill(0);
    first[WORLD] = 0;
    iter[WORLD] = childStart[WORLD]!;
    while (stack.length > 0) {
      const x = stack[stack.length - 1]!;
      if (x < n) {
        first[x] = next;
        leafOrder[next++] = x;
        last[x] = next;
        stack.pop();
        continue;
      }
      if (iter[x]! < childStart[x + 1]!) {
        const c = children[iter[x]!++]!;
        if (c >= n) {
          first[c] = next;
          iter[c] = childStart[c]!;
        }
        stack.push(c);
        continue;
      }
      last[x] = next;
      let best = -1;
      for (let a = childStart[x]!; a < childStart[x + 1]!; a++) {
        const c = children[a]!;
        if (best === -1 || last[c]! - first[c]! > last[best]! - first[best]!) best = c;
      }
      heavy[x] = best;
      stack.pop();
    }
  }
  // k(v) and the window of positions each vertex queries (gaps ≤ G − 1: the linear bound holds).
  const k = scratch.float64('k', n);
  const keyRight = scratch.float64('keyRight', n);
  const keyLeft = scratch.float64('keyLeft', n);
  const fromPos = scratch.int32('fromPos', n);
  const toPos = scratch.int32('toPos', n);
  let farPairs = false;
  for (let v = 0; v < n; v++) {
    k[v] = dual[v]! - scales.pairBonus - 2 * scales.waitUnit * priority[v]!;
    keyRight[v] = k[v]! + 2 * rating[v]!;
    keyLeft[v] = k[v]! - 2 * rating[v]!;
    if (low[v]! > high[v]!) {
      fromPos[v] = v;
      toPos[v] = v;
      continue;
    }
    const lo = Math.max(low[v]!, rating[v]! - (G - 1));
    const hi = Math.min(high[v]!, rating[v]! + (G - 1));
    if (lo > low[v]! || hi < high[v]!) farPairs = true;
    fromPos[v] = lowerBound(rating, lo, 0, n);
    toPos[v] = upperBound(rating, hi, 0, n);
  }
  const tree = new ThresholdTree(n);
  const violated: number[] = [];
  let level = 0;
  const report = (i: number, j: number): void => {
    if (!compatible(pool, i, j)) return;
    if (dual[i]! + dual[j]! + level - 2 * weightOf(pool, i, j) < 0) {
      if (i < j) violated.push(i, j);
      else violated.push(j, i);
    }
  };
  // Whole ratings (the service's): the gap is exact and so is every sum (duals are multiples of ½
  // below 2^52), so the test is the slack itself and tight pairs are not reported. Otherwise a
  // margin of 2 covers the rounding of the gap (1) and of the sums.
  let whole = true;
  for (let v = 0; v < n && whole; v++) whole = Number.isInteger(rating[v]!);
  const margin = whole ? 0 : 2;
  const query = (i: number): void => {
    const base = 2 * G + margin - level - k[i]!;
    if (toPos[i]! > i + 1) tree.below(tree.right, i + 1, toPos[i]!, base + 2 * rating[i]!, i, report);
    if (fromPos[i]! < i) tree.below(tree.left, fromPos[i]!, i, base - 2 * rating[i]!, i, report);
  };
  const setLeaves = (x: number, on: boolean): void => {
    for (let p = first[x]!; p < last[x]!; p++) {
      const v = leafOrder[p]!;
      if (on) tree.set(v, keyRight[v]!, keyLeft[v]!);
      else tree.set(v, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
    }
  };
  // The sack, iteratively: state 0 = enter, 1 = next light child, 2 = light child done, 3 = after heavy.
  const frameNode: number[] = [WORLD];
  const frameState: number[] = [0];
  const frameIdx: number[] = [0];
  while (frameNode.length > 0) {
    const top = frameNode.length - 1;
    const x = frameNode[top]!;
    const state = frameState[top]!;
    if (x < n) {
      tree.set(x, keyRight[x]!, keyLeft[x]!);
      frameNode.pop();
      frameState.pop();
      frameIdx.pop();
      continue;
    }
    if (state === 0 || state === 1) {
      let a = state === 0 ? childStart[x]! : frameIdx[top]!;
      while (a < childStart[x + 1]! && children[a] === heavy[x]) a++;
      if (a < childStart[x + 1]!) {
        frameIdx[top] = a;
        frameState[top] = 2;
        frameNode.push(children[a]!);
        frameState.push(0);
        frameIdx.push(0);
      } else {
        frameState[top] = 3;
        if (heavy[x]! >= 0) {
          frameNode.push(heavy[x]!);
          frameState.push(0);
          frameIdx.push(0);
        }
      }
      continue;
    }
    if (state === 2) {
      setLeaves(children[frameIdx[top]!]!, false);
      frameIdx[top]!++;
      frameState[top] = 1;
      continue;
    }
    level = sumOf(x);
    for (let a = childStart[x]!; a < childStart[x + 1]!; a++) {
      const c = children[a]!;
      if (c === heavy[x]) continue;
      for (let p = first[c]!; p < last[c]!; p++) query(leafOrder[p]!);
      setLeaves(c, true);
    }
    frameNode.pop();
    frameState.pop();
    frameIdx.pop();
  }
  if (farPairs) priceFarPairs(pool, cert, up, sumOf, violated);
  return violated;
}

/**
 * Pairs more than G − 1 rating points apart (only when the configured maximum window exceeds the
 * weight's gap cap of 10,000 points): checked one by one, with the shared dual from the forest.
 */
function priceFarPairs(
  pool: PreparedPool,
  cert: DualCertificate,
  up: Int32Array,
  sumOf: (x: number) => number,
  violated: number[],
): void {
  const { rating, low, high, size: n, scales } = pool;
  const WORLD = 2 * n;
  const G = scales.gapCap;
  const depth = new Int32Array(2 * n + 1).fill(-1);
  depth[WORLD] = 0;
  const chain: number[] = [];
  const depthOf = (x0: number): number => {
    let x = x0;
    while (depth[x]! < 0) {
      chain.push(x);
      x = up[x]!;
    }
    let d = depth[x]!;
    for (let k = chain.length - 1; k >= 0; k--) depth[chain[k]!] = ++d;
    chain.length = 0;
    return depth[x0]!;
  };
  const shared = (i: number, j: number): number => {
    let a = up[i]!;
    let b = up[j]!;
    while (depthOf(a) > depthOf(b)) a = up[a]!;
    while (depthOf(b) > depthOf(a)) b = up[b]!;
    while (a !== b) {
      a = up[a]!;
      b = up[b]!;
    }
    return sumOf(a);
  };
  for (let i = 0; i < n; i++) {
    if (low[i]! > high[i]!) continue;
    const from = upperBound(rating, rating[i]! + (G - 1), i + 1, n);
    for (let j = from; j < n && rating[j]! <= high[i]!; j++) {
      if (!compatible(pool, i, j)) continue;
      if (cert.dual[i]! + cert.dual[j]! + shared(i, j) - 2 * weightOf(pool, i, j) < 0) violated.push(i, j);
    }
  }
}

/** This module's arrays, kept between passes (see {@link Scratch}). */
const scratch = new Scratch();

/** A min-segment tree of two keys per position, with "report every position below t" queries. */
class ThresholdTree {
  private readonly leaves: number;
  readonly right: Float64Array;
  readonly left: Float64Array;
  private readonly stack: Int32Array;

  constructor(n: number) {
    let leaves = 1;
    while (leaves < n) leaves *= 2;
    this.leaves = leaves;
    this.right = scratch.float64('treeRight', 2 * leaves).fill(Number.POSITIVE_INFINITY);
    this.left = scratch.float64('treeLeft', 2 * leaves).fill(Number.POSITIVE_INFINITY);
    this.stack = scratch.int32('treeStack', 64 * 2 + 2 * leaves);
  }

  set(position: number, rightKey: number, leftKey: number): void {
    const { right, left } = this;
    let x = position + this.leaves;
    right[x] = rightKey;
    left[x] = leftKey;
    x >>= 1;
    while (x >= 1) {
      const r = Math.min(right[2 * x]!, right[2 * x + 1]!);
      const l = Math.min(left[2 * x]!, left[2 * x + 1]!);
      if (right[x] === r && left[x] === l) break;
      right[x] = r;
      left[x] = l;
      x >>= 1;
    }
  }

  /** Calls report(i, p) for every position p in [from, to) whose key in `keys` is below t. */
  below(
    keys: Float64Array,
    from: number,
    to: number,
    t: number,
    i: number,
    report: (i: number, p: number) => void,
  ): void {
    const { stack, leaves } = this;
    let sp = 0;
    let a = from + leaves;
    let b = to + leaves;
    while (a < b) {
      if (a & 1) {
        if (keys[a]! < t) stack[sp++] = a;
        a++;
      }
      if (b & 1) {
        b--;
        if (keys[b]! < t) stack[sp++] = b;
      }
      a >>= 1;
      b >>= 1;
    }
    while (sp > 0) {
      const x = stack[--sp]!;
      if (x >= leaves) {
        report(i, x - leaves);
        continue;
      }
      if (keys[2 * x]! < t) stack[sp++] = 2 * x;
      if (keys[2 * x + 1]! < t) stack[sp++] = 2 * x + 1;
    }
  }
}

import type { PairingConfig } from '../config.js';
import { PairingInputError } from '../errors.js';
import { gapPoints, type WeightScales, waitPriority, weightScales } from '../weight/weight.js';
import type { PoolEntry } from './pool-entry.js';
import { waitedMs, windowHalfWidth } from './rating-window.js';

/**
 * A pool snapshot sorted by (rating, entryId) with everything the matchers need in flat arrays.
 * Index i everywhere means "i-th entry in that order", which makes every algorithm independent
 * of the input order.
 */
export interface PreparedPool {
  readonly entries: PoolEntry[];
  readonly size: number;
  readonly rating: Float64Array;
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly halfWidth: Float64Array;
  readonly waitMs: Float64Array;
  /** Wait priority q(i) in whole seconds (capped). */
  readonly priority: Int32Array;
  /** Each entry's userId (equal strings: the same user). */
  readonly userId: string[];
  /** Users this entry may not meet again yet (rematch cool-down), or null. */
  readonly blocked: (Set<string> | null)[];
  readonly scales: WeightScales;
}

export function preparePool(input: readonly PoolEntry[], now: number, config: PairingConfig): PreparedPool {
  if (!Number.isFinite(now)) throw new PairingInputError('now must be a finite epoch-ms number');
  const size = input.length;
  const inputRating = new Float64Array(size);
  const seen = new Set<string>();
  for (let k = 0; k < size; k++) {
    const e = input[k]!;
    // One hash lookup per entry: a duplicate leaves the set's size unchanged.
    seen.add(e.entryId);
    if (seen.size === k) throw new PairingInputError(`duplicate entryId ${e.entryId}`);
    if (!Number.isFinite(e.rating) || !Number.isFinite(e.enqueuedAt)) {
      throw new PairingInputError(`entry ${e.entryId} has a non-finite rating or enqueuedAt`);
    }
    inputRating[k] = e.rating;
  }
  // Sort positions by (rating, entryId): a total order on distinct ids, so input order never matters.
  const order = sortedPositions(input, inputRating);
  const entries: PoolEntry[] = new Array(size);
  const rating = new Float64Array(size);
  const low = new Float64Array(size);
  const high = new Float64Array(size);
  const halfWidth = new Float64Array(size);
  const waitMs = new Float64Array(size);
  const priority = new Int32Array(size);
  const userId: string[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const e = input[order[i]!]!;
    entries[i] = e;
    rating[i] = e.rating;
    const waited = waitedMs(e.enqueuedAt, now);
    const w = windowHalfWidth(waited, config);
    let lo = e.rating - w;
    let hi = e.rating + w;
    const range = e.ratingRange;
    if (range) {
      if (typeof range.min === 'number' && range.min > lo) lo = range.min;
      if (typeof range.max === 'number' && range.max < hi) hi = range.max;
    }
    low[i] = lo;
    high[i] = hi;
    halfWidth[i] = w;
    waitMs[i] = waited;
    priority[i] = waitPriority(waited);
    userId[i] = e.userId;
  }
  const blocked: (Set<string> | null)[] = new Array(size).fill(null);
  const cooldownMs = config.rematchCooldownSeconds * 1000;
  if (cooldownMs > 0) {
    for (let i = 0; i < size; i++) {
      const recent = entries[i]!.recentOpponents;
      if (!recent || recent.length === 0) continue;
      for (const r of recent) {
        // A future timestamp (clock skew) counts as "just played".
        if (now - r.at >= cooldownMs) continue;
        let set = blocked[i];
        if (!set) {
          set = new Set();
          blocked[i] = set;
        }
        set.add(r.userId);
      }
    }
  }
  const scales = weightScales(size, config);
  return { entries, size, rating, low, high, halfWidth, waitMs, priority, userId, blocked, scales };
}

/**
 * Input positions in (rating, entryId) order. Whole ratings in [0, 2^30) (the service's) are
 * sorted as packed numbers `rating · 2^22 + position` by the engine's numeric sort, then each run
 * of equal ratings by entryId; other pools by one comparison sort.
 */
function sortedPositions(input: readonly PoolEntry[], rating: Float64Array): Uint32Array {
  const size = input.length;
  const order = new Uint32Array(size);
  const byId = (x: number, y: number): number => {
    const a = input[x]!.entryId;
    const b = input[y]!.entryId;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  let packable = size <= 2 ** 22;
  for (let k = 0; k < size && packable; k++) {
    const r = rating[k]!;
    packable = Number.isInteger(r) && r >= 0 && r < 2 ** 30;
  }
  if (!packable) {
    for (let k = 0; k < size; k++) order[k] = k;
    order.sort((x, y) => rating[x]! - rating[y]! || byId(x, y));
    return order;
  }
  const packed = new Float64Array(size);
  for (let k = 0; k < size; k++) packed[k] = rating[k]! * 2 ** 22 + k;
  packed.sort();
  for (let k = 0; k < size; k++) order[k] = packed[k]! % 2 ** 22;
  for (let start = 0; start < size; ) {
    let end = start + 1;
    while (end < size && rating[order[end]!] === rating[order[start]!]) end++;
    if (end - start > 1) order.subarray(start, end).sort(byId);
    start = end;
  }
  return order;
}

/** Both ratings inside the other's window, different users, no rematch within the cool-down. */
export function compatible(pool: PreparedPool, i: number, j: number): boolean {
  const ri = pool.rating[i]!;
  const rj = pool.rating[j]!;
  if (rj < pool.low[i]! || rj > pool.high[i]! || ri < pool.low[j]! || ri > pool.high[j]!) return false;
  if (pool.userId[i] === pool.userId[j]) return false;
  const bi = pool.blocked[i];
  if (bi?.has(pool.userId[j]!)) return false;
  const bj = pool.blocked[j];
  if (bj?.has(pool.userId[i]!)) return false;
  return true;
}

/** The edge weight of a compatible pair (see weight.ts). */
export function weightOf(pool: PreparedPool, i: number, j: number): number {
  const s = pool.scales;
  return (
    s.pairBonus +
    s.waitUnit * (pool.priority[i]! + pool.priority[j]!) +
    s.gapCap -
    Math.min(s.gapCap, gapPoints(pool.rating[i]! - pool.rating[j]!))
  );
}

/** First index in [from, to) whose rating is ≥ value (ratings ascending). */
export function lowerBound(rating: Float64Array, value: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rating[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in [from, to) whose rating is > value. */
export function upperBound(rating: Float64Array, value: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rating[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

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
  /** Dense user numbers: equal iff same userId. */
  readonly userKey: Int32Array;
  /** User keys this entry may not meet again yet (rematch cool-down), or null. */
  readonly blocked: (Set<number> | null)[];
  readonly scales: WeightScales;
}

export function preparePool(input: readonly PoolEntry[], now: number, config: PairingConfig): PreparedPool {
  if (!Number.isFinite(now)) throw new PairingInputError('now must be a finite epoch-ms number');
  const size = input.length;
  const inputRating = new Float64Array(size);
  const seen = new Set<string>();
  for (let k = 0; k < size; k++) {
    const e = input[k]!;
    if (seen.has(e.entryId)) throw new PairingInputError(`duplicate entryId ${e.entryId}`);
    seen.add(e.entryId);
    if (!Number.isFinite(e.rating) || !Number.isFinite(e.enqueuedAt)) {
      throw new PairingInputError(`entry ${e.entryId} has a non-finite rating or enqueuedAt`);
    }
    inputRating[k] = e.rating;
  }
  // Sort positions by (rating, entryId): a total order on distinct ids, so input order never matters.
  const order = new Uint32Array(size);
  for (let k = 0; k < size; k++) order[k] = k;
  order.sort((x, y) => {
    const d = inputRating[x]! - inputRating[y]!;
    if (d !== 0) return d;
    const a = input[x]!.entryId;
    const b = input[y]!.entryId;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const entries: PoolEntry[] = new Array(size);
  const rating = new Float64Array(size);
  const low = new Float64Array(size);
  const high = new Float64Array(size);
  const halfWidth = new Float64Array(size);
  const waitMs = new Float64Array(size);
  const priority = new Int32Array(size);
  const userKey = new Int32Array(size);
  const keys = new Map<string, number>();
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
    let key = keys.get(e.userId);
    if (key === undefined) {
      key = keys.size;
      keys.set(e.userId, key);
    }
    userKey[i] = key;
  }
  const blocked: (Set<number> | null)[] = new Array(size).fill(null);
  const cooldownMs = config.rematchCooldownSeconds * 1000;
  if (cooldownMs > 0) {
    for (let i = 0; i < size; i++) {
      const recent = entries[i]!.recentOpponents;
      if (!recent || recent.length === 0) continue;
      for (const r of recent) {
        const key = keys.get(r.userId);
        // A future timestamp (clock skew) counts as "just played".
        if (key === undefined || now - r.at >= cooldownMs) continue;
        let set = blocked[i];
        if (!set) {
          set = new Set();
          blocked[i] = set;
        }
        set.add(key);
      }
    }
  }
  const scales = weightScales(size, config);
  return { entries, size, rating, low, high, halfWidth, waitMs, priority, userKey, blocked, scales };
}

/** Both ratings inside the other's window, different users, no rematch within the cool-down. */
export function compatible(pool: PreparedPool, i: number, j: number): boolean {
  const ri = pool.rating[i]!;
  const rj = pool.rating[j]!;
  if (rj < pool.low[i]! || rj > pool.high[i]! || ri < pool.low[j]! || ri > pool.high[j]!) return false;
  if (pool.userKey[i] === pool.userKey[j]) return false;
  const bi = pool.blocked[i];
  if (bi?.has(pool.userKey[j]!)) return false;
  const bj = pool.blocked[j];
  if (bj?.has(pool.userKey[i]!)) return false;
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

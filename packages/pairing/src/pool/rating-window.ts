import type { PairingConfig } from '../config.js';
import type { PoolEntry } from './pool-entry.js';

/** The closed interval of opponent ratings an entry accepts right now. Empty when low > high. */
export interface RatingWindow {
  low: number;
  high: number;
  /** The wait-based half-width (initial window widened over time, capped), before any preference. */
  halfWidth: number;
}

/** Milliseconds waited at `now` (never negative: a clock skew must not shrink a window). */
export function waitedMs(enqueuedAt: number, now: number): number {
  return Math.max(0, now - enqueuedAt);
}

/** The wait-based half-width: initial + step × floor(wait / interval), at most maxWindow. */
export function windowHalfWidth(waitMs: number, config: PairingConfig): number {
  const intervalMs = config.wideningIntervalSeconds * 1000;
  const steps = intervalMs > 0 && config.wideningStep > 0 ? Math.floor(waitMs / intervalMs) : 0;
  return Math.max(0, Math.min(config.maxWindow, config.initialWindow + steps * config.wideningStep));
}

/**
 * The acceptable opponent ratings of `entry` at `now`: [rating − w, rating + w] for the
 * widened half-width w, intersected with the player's own `ratingRange` (either bound optional).
 */
export function ratingWindow(
  entry: Pick<PoolEntry, 'rating' | 'enqueuedAt' | 'ratingRange'>,
  now: number,
  config: PairingConfig,
): RatingWindow {
  const halfWidth = windowHalfWidth(waitedMs(entry.enqueuedAt, now), config);
  let low = entry.rating - halfWidth;
  let high = entry.rating + halfWidth;
  const range = entry.ratingRange;
  if (range) {
    if (typeof range.min === 'number' && range.min > low) low = range.min;
    if (typeof range.max === 'number' && range.max < high) high = range.max;
  }
  return { low, high, halfWidth };
}

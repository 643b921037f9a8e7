import type { PairingConfig } from '../config.js';
import { PairingCapacityError } from '../errors.js';

/**
 * Waits count for priority up to this many seconds (the old design's MAX_QUEUE_TIME: entries
 * time out after 10 minutes, so longer waits need not be told apart).
 */
export const WAIT_PRIORITY_CAP_SECONDS = 600;

/** Every matching's total weight stays below this, so sums of weights are exact in a double. */
export const WEIGHT_LIMIT = 2 ** 52;

/**
 * The integer scales of the edge weight
 * `w(a, b) = pairBonus + waitUnit · (q(a) + q(b)) + (gapCap − round|r(a) − r(b)|)`,
 * where q = whole seconds waited (capped). See README "Weight function".
 */
export interface WeightScales {
  /** C: larger than all other terms of any matching together, so cardinality comes first. */
  pairBonus: number;
  /** U: value of one second of a matched player's wait. */
  waitUnit: number;
  /** G: one more than the largest allowed rounded gap, so the gap term is ≥ 1. */
  gapCap: number;
  /** Q: wait priority cap in seconds. */
  waitCapSeconds: number;
  /**
   * True when U exceeds any possible difference of total gap terms, i.e. the encoding is
   * exactly lexicographic (pairs, then waits, then gaps). False for big pools, where U is the
   * largest value that keeps every total below 2^52 (one second of wait is still worth U rating
   * points of total gap).
   */
  lexicographic: boolean;
}

/** The gap cap G for a config: gaps of allowed pairs never exceed maxWindow. */
export function gapCapFor(config: PairingConfig): number {
  const maxGap = Number.isFinite(config.maxWindow) ? Math.max(0, config.maxWindow) : 10_000;
  return Math.ceil(Math.min(maxGap, 10_000)) + 1;
}

/** Scales for a pool of `entryCount` entries (see README for the derivation of the bounds). */
export function weightScales(entryCount: number, config: PairingConfig): WeightScales {
  const gapCap = gapCapFor(config);
  const waitCap = WAIT_PRIORITY_CAP_SECONDS;
  const maxPairs = Math.max(1, Math.floor(entryCount / 2));
  // Lexicographic (2) over (3): one second of wait beats the whole gap term of any matching.
  const strictUnit = maxPairs * gapCap + 1;
  // Fit: total ≤ maxPairs · ((maxPairs + 1) · (2QU + G) + 1) ≤ WEIGHT_LIMIT.
  const fitUnit = Math.floor(((WEIGHT_LIMIT / maxPairs - 1) / (maxPairs + 1) - gapCap) / (2 * waitCap));
  const waitUnit = Math.min(strictUnit, fitUnit);
  if (!(waitUnit >= 1)) {
    throw new PairingCapacityError(`a pool of ${entryCount} entries does not fit the exact weight encoding`);
  }
  // C exceeds the wait and gap terms of any matching: ≤ maxPairs · (2QU + G).
  const pairBonus = maxPairs * (2 * waitCap * waitUnit + gapCap) + 1;
  return { pairBonus, waitUnit, gapCap, waitCapSeconds: waitCap, lexicographic: waitUnit === strictUnit };
}

/** Whole seconds waited, capped at the priority cap. */
export function waitPriority(waitMs: number): number {
  return Math.min(WAIT_PRIORITY_CAP_SECONDS, Math.floor(Math.max(0, waitMs) / 1000));
}

/** The rounded rating gap used by the weight (whole rating points). */
export function gapPoints(ratingGap: number): number {
  return Math.round(Math.abs(ratingGap));
}

/** Weight of pairing two compatible entries. */
export function edgeWeight(scales: WeightScales, waitMsA: number, waitMsB: number, ratingGap: number): number {
  return (
    scales.pairBonus +
    scales.waitUnit * (waitPriority(waitMsA) + waitPriority(waitMsB)) +
    scales.gapCap -
    Math.min(scales.gapCap, gapPoints(ratingGap))
  );
}

import {
  defaultPairingConfig,
  greedyOldestFirst,
  maxWeightMatching,
  type PairingConfig,
  type PoolEntry,
  pairPool,
  ratingWindow,
} from '../src/index.js';

/** A waiting player as a policy sees it. */
export interface Waiting {
  entry: PoolEntry;
  /** Lichess waves this player took part in without being paired. */
  missedWaves: number;
}

/** When a policy runs a pass and how it pairs. */
export interface Policy {
  name: string;
  /** Periodic pass interval in ms (the tick). */
  tickMs: number;
  /** Run a pass right after an arrival when this returns true. */
  passOnArrival: (waitingCount: number) => boolean;
  /** Pairs to create now (entry ids). */
  pair: (waiting: Waiting[], now: number) => [string, string][];
}

/**
 * The old design: greedy oldest first, ±100 widened by 25 every 10 s, no cap, 1 s worker tick.
 * The frontier sweep varies the initial half-window and the widening step (per 10 s).
 */
export function seedGreedyPolicy(initialWindow = 100, wideningStep = 25): Policy {
  const config: PairingConfig = {
    ...defaultPairingConfig,
    initialWindow,
    wideningStep,
    maxWindow: Number.POSITIVE_INFINITY,
  };
  return {
    name: 'seed-greedy',
    tickMs: 1000,
    passOnArrival: () => false,
    pair: (waiting, now) =>
      greedyOldestFirst(
        waiting.map((w) => w.entry),
        now,
        config,
      ).pairs.map((p) => [p.a.entryId, p.b.entryId]),
  };
}

/**
 * Whether any two waiting players accept each other at `now` (each rating inside the other's
 * window). When none do, `pairPool` pairs nobody (it makes a maximum-cardinality matching), so a
 * pass can be skipped without changing the outcome; the simulator uses this to stay fast.
 */
export function anyAllowedPair(waiting: readonly Waiting[], now: number, config: PairingConfig): boolean {
  const n = waiting.length;
  if (n < 2) return false;
  const sorted = waiting.map((w) => {
    const window = ratingWindow(w.entry, now, config);
    return { rating: w.entry.rating, low: window.low, high: window.high, user: w.entry.userId };
  });
  sorted.sort((x, y) => x.rating - y.rating);
  for (let i = 0; i < n; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < n && sorted[j]!.rating <= a.high; j++) {
      const b = sorted[j]!;
      if (a.rating >= b.low && a.user !== b.user) return true;
    }
  }
  return false;
}

/**
 * Our pairing: global weighted matching per pass (`pairPool`, as the service runs it), on a tick
 * and/or on every arrival (the service's immediate pools pass on every join).
 */
export function oursPolicy(config: PairingConfig, intervalSeconds: number, immediate: boolean, name = 'ours'): Policy {
  return {
    name,
    tickMs: intervalSeconds * 1000,
    passOnArrival: () => immediate,
    pair: (waiting, now) =>
      anyAllowedPair(waiting, now, config)
        ? pairPool(
            waiting.map((w) => w.entry),
            now,
            config,
          ).pairs.map((p) => [p.a.entryId, p.b.entryId])
        : [],
  };
}

/** Lichess's pool threshold: score ≤ 130 below 1000, ≤ 100 below 1500, else ≤ rating / 15. */
export function lichessMaxScore(rating: number): number {
  if (rating < 1000) return 130;
  if (rating < 1500) return 100;
  return rating / 15;
}

/** Pair score = |Δr| − min(missA, missB), miss = clamp(12 · missed waves, 0, 400); lower is better. */
export function lichessScore(a: Waiting, b: Waiting): number {
  const miss = (w: Waiting) => Math.min(400, Math.max(0, 12 * w.missedWaves));
  return Math.abs(a.entry.rating - b.entry.rating) - Math.min(miss(a), miss(b));
}

/**
 * Lichess-style waves: every 12 s or as soon as 40 players wait (the frontier sweep varies both).
 * A pair is allowed when its score is within the *lower-rated* player's threshold; the wave is a
 * maximum-cardinality, minimum-total-score matching (our blossom matcher with weight
 * BIG + (1000 − score)).
 */
export function lichessWavePolicy(intervalSeconds = 12, waveSize = 40): Policy {
  return {
    name: 'lichess-wave',
    tickMs: intervalSeconds * 1000,
    passOnArrival: (count) => count >= waveSize,
    pair: (waiting) => {
      const n = waiting.length;
      const from: number[] = [];
      const to: number[] = [];
      const weight: number[] = [];
      const big = 2000 * (n + 1);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const a = waiting[i]!;
          const b = waiting[j]!;
          if (a.entry.userId === b.entry.userId) continue;
          const score = lichessScore(a, b);
          if (score > lichessMaxScore(Math.min(a.entry.rating, b.entry.rating))) continue;
          from.push(i);
          to.push(j);
          weight.push(big + 1000 - score);
        }
      }
      const mate = maxWeightMatching({ vertexCount: n, from, to, weight, edgeCount: from.length });
      const pairs: [string, string][] = [];
      for (let i = 0; i < n; i++) {
        const j = mate[i]!;
        if (j > i) pairs.push([waiting[i]!.entry.entryId, waiting[j]!.entry.entryId]);
      }
      for (const w of waiting) w.missedWaves++;
      return pairs;
    },
  };
}

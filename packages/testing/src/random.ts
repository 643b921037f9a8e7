/**
 * The one seeded PRNG of the repository (mulberry32): small, fast and reproducible — for tests,
 * benches, the pairing simulator and live-game-sim's fault injection. Not for secrets.
 * Imported as `@mm/testing/random` (this file has no dependencies, so apps may use it).
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32 from a numeric seed. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 seeded by an FNV-1a hash of a text seed (e.g. a run label). */
export function seededRandom(seed: string): Random {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mulberry32(h);
}

/** Standard normal draw (Box–Muller). */
export function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Exponential draw with the given rate (events per unit). */
export function exponential(random: Random, rate: number): number {
  return -Math.log(1 - random()) / rate;
}

import type { PoolEntry } from '../src/index.js';

/** Deterministic PRNG for tests and tools (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const NOW = 1_700_000_000_000;

/** A pool with ratings ~ N(mean, sd) and waits uniform in [0, maxWaitMs). */
export function randomPool(size: number, seed: number, mean = 1500, sd = 350, maxWaitMs = 120_000): PoolEntry[] {
  const random = mulberry32(seed);
  const entries: PoolEntry[] = [];
  for (let i = 0; i < size; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    entries.push({
      entryId: `e${i.toString().padStart(6, '0')}`,
      userId: `u${i}`,
      rating: Math.round(mean + sd * z),
      enqueuedAt: NOW - Math.floor(random() * maxWaitMs),
    });
  }
  return entries;
}

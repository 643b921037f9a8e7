import { mulberry32, normal } from '@mm/testing/random';
import type { PoolEntry } from '../src/index.js';

export { mulberry32 };

export const NOW = 1_700_000_000_000;

/** A pool with ratings ~ N(mean, sd) and waits uniform in [0, maxWaitMs). */
export function randomPool(size: number, seed: number, mean = 1500, sd = 350, maxWaitMs = 120_000): PoolEntry[] {
  const random = mulberry32(seed);
  const entries: PoolEntry[] = [];
  for (let i = 0; i < size; i++) {
    const z = normal(random);
    entries.push({
      entryId: `e${i.toString().padStart(6, '0')}`,
      userId: `u${i}`,
      rating: Math.round(mean + sd * z),
      enqueuedAt: NOW - Math.floor(random() * maxWaitMs),
    });
  }
  return entries;
}

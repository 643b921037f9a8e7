import type { PairingConfig } from '../config.js';
import type { PairingResult } from '../pair-pool.js';
import { buildResult } from '../pair-pool.js';
import type { PoolEntry } from '../pool/pool-entry.js';
import { compatible, preparePool, weightOf } from '../pool/prepared-pool.js';

/**
 * The old design's `find_matches_for_pool`, kept as a yardstick: entries sorted oldest first,
 * each still-unpaired entry takes the first (oldest) still-unpaired candidate that is allowed.
 * "Allowed" is the same rule as `pairPool` (both windows, different users, cool-down), so the
 * comparison measures only the choice of pairs. Weights are reported under the same function.
 */
export function greedyOldestFirst(entries: readonly PoolEntry[], now: number, config: PairingConfig): PairingResult {
  const pool = preparePool(entries, now, config);
  const size = pool.size;
  const order = Array.from({ length: size }, (_, i) => i);
  order.sort((x, y) => {
    const ex = pool.entries[x]!;
    const ey = pool.entries[y]!;
    return ex.enqueuedAt - ey.enqueuedAt || (ex.entryId < ey.entryId ? -1 : ex.entryId > ey.entryId ? 1 : 0);
  });
  // Doubly linked list of unpaired entries in wait order, so paired ones are skipped in O(1).
  const next = new Int32Array(size + 2);
  const prev = new Int32Array(size + 2);
  const remove = (k: number): void => {
    next[prev[k]!] = next[k]!;
    prev[next[k]!] = prev[k]!;
  };
  // Slot 0 is a sentinel head; order position k lives in slot k + 1.
  for (let k = 0; k <= size; k++) next[k] = k + 1;
  for (let k = 1; k <= size + 1; k++) prev[k] = k - 1;
  const mate = new Int32Array(size).fill(-1);
  let totalWeight = 0;
  const done = new Uint8Array(size + 2);
  for (let slot = 1; slot <= size; slot++) {
    if (done[slot]) continue;
    const i = order[slot - 1]!;
    for (let cand = next[slot]!; cand <= size; cand = next[cand]!) {
      const j = order[cand - 1]!;
      if (!compatible(pool, i, j)) continue;
      mate[i] = j;
      mate[j] = i;
      totalWeight += weightOf(pool, i, j);
      done[cand] = 1;
      remove(cand);
      break;
    }
    // Leaves the candidate list either way: compatibility is symmetric, so an entry that found
    // no partner among the younger ones is no candidate for them either.
    done[slot] = 1;
    remove(slot);
  }
  return buildResult(pool, mate, { entries: size, edges: 0, exact: false, totalWeight });
}

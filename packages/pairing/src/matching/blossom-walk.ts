/**
 * Where a walk round a blossom's cycle starts, from child index `i` towards its base (index 0),
 * taking the even-length side: an odd `i` goes forwards from `i - len` (indices wrap, see the
 * callers' `at`), an even one backwards. `endpTrick` picks which endpoint of each cycle edge
 * the walk meets first. Shared by the general matcher and the pairing's primal-dual matcher.
 */
export function blossomWalk(i: number, len: number): { j: number; jStep: number; endpTrick: number } {
  return i & 1 ? { j: i - len, jStep: 1, endpTrick: 0 } : { j: i, jStep: -1, endpTrick: 1 };
}

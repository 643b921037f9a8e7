export { assignColours, type ColourAssignment, hashString } from './colours/assign-colours.js';
export { ALGORITHM_VERSION, defaultPairingConfig, type PairingConfig } from './config.js';
export { PairingCapacityError, PairingInputError } from './errors.js';
export {
  type MatchingWithDuals,
  maxWeightMatching,
  maxWeightMatchingWithDuals,
  type WeightedEdges,
} from './matching/max-weight-matching.js';
export { INLINE_POOL_LIMIT, PairingThread, pairPoolAsync } from './offload/pair-pool-async.js';
export {
  type Pair,
  type PairExplanation,
  type PairingResult,
  pairPool,
} from './pair-pool.js';
export type { PoolEntry } from './pool/pool-entry.js';
export { type RatingWindow, ratingWindow, windowHalfWidth } from './pool/rating-window.js';
export {
  edgeWeight,
  gapCapFor,
  WAIT_PRIORITY_CAP_SECONDS,
  type WeightScales,
  waitPriority,
  weightScales,
} from './weight/weight.js';
export { greedyOldestFirst } from './yardstick/greedy-oldest-first.js';

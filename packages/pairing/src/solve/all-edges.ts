import { compatible, lowerBound, type PreparedPool, weightOf } from '../pool/prepared-pool.js';
import { EdgeList } from './edge-list.js';

/** Every allowed pair (i < j in rating order) with its weight. Only rating-window ranges are scanned. */
export function allEdges(pool: PreparedPool): EdgeList {
  const { rating, low, high, size } = pool;
  const edges = new EdgeList(Math.max(64, size * 4));
  for (let i = 0; i < size; i++) {
    if (low[i]! > high[i]!) continue;
    const start = Math.max(i + 1, lowerBound(rating, low[i]!, 0, size));
    const hi = high[i]!;
    for (let j = start; j < size && rating[j]! <= hi; j++) {
      if (compatible(pool, i, j)) edges.push(i, j, weightOf(pool, i, j));
    }
  }
  return edges;
}

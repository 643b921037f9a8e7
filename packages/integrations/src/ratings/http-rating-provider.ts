import { requestJson, UpstreamError } from '../http.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  type RatingProvider,
  type RatingQuery,
  type RatingSnapshot,
  RatingUnavailableError,
} from './rating-provider.js';

export interface HttpRatingProviderOptions {
  /** rating-api base URL; ratings are read from `GET {baseUrl}/v1/ratings/{user_id}?tenant_id=…&pool=…`. */
  baseUrl: string;
  /** @defaultValue 1000 */
  timeoutMs?: number;
  /** How long a fetched rating is reused. @defaultValue 30000 */
  cacheTtlMs?: number;
  /** Most ratings kept in the cache (oldest dropped first). @defaultValue 50000 */
  cacheSize?: number;
  /** When rating-api fails: use this rating (logged), or `reject` to fail the join. */
  fallback: number | 'reject';
  logger?: Logger;
  /** Injectable clock for tests. @defaultValue Date.now */
  now?: () => number;
}

/**
 * rating-api adapter: a timeout, a short cache (a player's rating barely moves while
 * they queue, and re-joins are common), and a configured fallback when rating-api is
 * down, so matchmaking keeps working.
 */
export function createHttpRatingProvider(options: HttpRatingProviderOptions): RatingProvider {
  const timeoutMs = options.timeoutMs ?? 1000;
  const ttl = options.cacheTtlMs ?? 30_000;
  const maxSize = options.cacheSize ?? 50_000;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { rating: number; expiresAt: number }>();
  const base = options.baseUrl.replace(/\/+$/, '');

  async function fetchRating(query: RatingQuery): Promise<number> {
    const url = `${base}/v1/ratings/${encodeURIComponent(query.userId)}?tenant_id=${encodeURIComponent(query.tenantId)}&pool=${encodeURIComponent(query.pool)}`;
    const { status, body } = await requestJson('rating-api', url, { timeoutMs });
    if (status === 404) return Number.NaN; // unknown player: provisional, handled by caller
    if (status !== 200) throw new UpstreamError('rating-api', `HTTP ${status}`, status >= 500, status);
    const rating = (body as { rating?: unknown } | null)?.rating;
    if (typeof rating !== 'number' || !Number.isFinite(rating) || rating < 0 || rating > 10_000) {
      throw new UpstreamError('rating-api', 'answer without a valid "rating"', false, status);
    }
    return Math.round(rating);
  }

  return {
    async ratingFor(query) {
      const key = `${query.tenantId}\u0000${query.userId}\u0000${query.pool}`;
      const hit = cache.get(key);
      if (hit && hit.expiresAt > now()) return { rating: hit.rating, source: 'rating-api' };
      try {
        let rating = await fetchRating(query);
        if (Number.isNaN(rating)) {
          // A player rating-api does not know yet plays at the provisional rating.
          if (options.fallback === 'reject') throw new UpstreamError('rating-api', 'unknown player', false, 404);
          rating = options.fallback;
        }
        cache.delete(key);
        cache.set(key, { rating, expiresAt: now() + ttl });
        if (cache.size > maxSize) cache.delete(cache.keys().next().value as string);
        return { rating, source: 'rating-api' } satisfies RatingSnapshot;
      } catch (error) {
        if (options.fallback === 'reject') throw new RatingUnavailableError(error);
        logger.warn(
          { err: error, tenantId: query.tenantId, userId: query.userId, pool: query.pool, fallback: options.fallback },
          'rating-api unavailable: using the fallback rating',
        );
        return { rating: options.fallback, source: 'fallback' };
      }
    },
  };
}

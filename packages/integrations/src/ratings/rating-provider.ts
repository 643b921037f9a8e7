export interface RatingQuery {
  tenantId: string;
  userId: string;
  /** Pool key, e.g. `3+0:rated`; ratings differ per time control. */
  pool: string;
}

export interface RatingSnapshot {
  rating: number;
  /** Where the number came from; snapshotted into QueueJoined for auditors. */
  source: 'rating-api' | 'fallback' | 'default';
}

/** Port: where a player's rating comes from. */
export interface RatingProvider {
  ratingFor(query: RatingQuery): Promise<RatingSnapshot>;
}

/** rating-api is down and the configured policy is to reject joins. Maps to 503 MATCHMAKING_UNAVAILABLE. */
export class RatingUnavailableError extends Error {
  readonly code = 'RATING_UNAVAILABLE';
  constructor(cause: unknown) {
    super('the rating service is unavailable', { cause });
    this.name = 'RatingUnavailableError';
  }
}

/** Used when no rating-api is configured: everyone has the same configured rating. */
export const fixedRatingProvider = (rating: number): RatingProvider => ({
  async ratingFor() {
    return { rating, source: 'default' };
  },
});

import type { Config } from '@mm/config';
import { createLiveGameApi, type LiveGameApi } from './live-game/live-game-api.js';
import type { Logger } from './logger.js';
import { createHttpRatingProvider } from './ratings/http-rating-provider.js';
import { fixedRatingProvider, type RatingProvider } from './ratings/rating-provider.js';

/** The rating provider the configuration asks for: rating-api when RATING_API_URL is set, else DEFAULT_RATING. */
export const ratingProviderFromConfig = (config: Config, logger: Logger): RatingProvider =>
  config.RATING_API_URL
    ? createHttpRatingProvider({
        baseUrl: config.RATING_API_URL,
        timeoutMs: config.RATING_API_TIMEOUT_SECONDS * 1000,
        cacheTtlMs: config.RATING_CACHE_TTL_SECONDS * 1000,
        fallback: config.RATING_FALLBACK,
        logger,
      })
    : fixedRatingProvider(config.DEFAULT_RATING);

/** The live-game-api client for LIVE_GAME_API_URL / _TIMEOUT_SECONDS / _TOKEN. */
export const liveGameApiFromConfig = (config: Config): LiveGameApi =>
  createLiveGameApi({
    baseUrl: config.LIVE_GAME_API_URL,
    timeoutMs: config.LIVE_GAME_API_TIMEOUT_SECONDS * 1000,
    ...(config.LIVE_GAME_API_TOKEN ? { token: config.LIVE_GAME_API_TOKEN } : {}),
  });

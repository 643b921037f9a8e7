export * from './from-config.js';
export * from './http.js';
export * from './live-game/live-game-api.js';
export * from './logger.js';
export * from './ratings/http-rating-provider.js';
export * from './ratings/rating-provider.js';

export * from './jwt.js';
export * from './postgres.js';
export * from './redis.js';

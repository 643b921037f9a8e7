export * from './http-double.js';
export * from './jwt.js';
export * from './postgres.js';
export * from './redis.js';
export * from './redis-cluster.js';

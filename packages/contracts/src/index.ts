export * from './events/index.js';
export * from './http/index.js';
export * from './pools/pool.js';
export * from './pools/time-control.js';
export * from './streams/stream-names.js';

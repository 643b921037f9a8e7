export * from './challenge-events.js';
export * from './common.js';
export * from './envelope.js';
export * from './match-events.js';
export * from './player-events.js';
export * from './pool-events.js';
export * from './registry.js';

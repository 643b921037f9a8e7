export * from './client.js';
export * from './keys.js';
export * from './pool-lock.js';
export * from './queues/challenges.js';
export * from './queues/game-creation.js';
export * from './queues/pairing.js';
export * from './queues/tick.js';
export * from './scripts.js';

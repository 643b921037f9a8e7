export * from './challenge-queue.js';
export * from './challenge-workers.js';
export * from './drive-challenge.js';

export * from './challenge-workers.js';
export * from './drive-challenge.js';

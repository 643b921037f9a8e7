export * from './challenges.js';
export * from './problem.js';
export * from './queue.js';

export * from './challenge-acceptance.js';
export * from './challenge-lifecycle.js';

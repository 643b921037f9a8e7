export * from './decider-specification.js';
export * from './flow-specification.js';

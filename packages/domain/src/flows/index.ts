export * from './challenge-acceptance.js';
export * from './challenge-lifecycle.js';
export * from './game-creation-outcome.js';
export * from './match-flow-context.js';
export * from './queue-claim-recovery.js';
export * from './queue-match-commit.js';

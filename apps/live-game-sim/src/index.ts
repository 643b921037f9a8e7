export { type Random, seededRandom } from '@mm/testing/random';
export * from './config.js';
export * from './faults/fault-plan.js';
export * from './games/game-registry.js';
export { createSimApp, type SimApp, type SimAppOptions } from './http/app.js';
export * from './sim.js';

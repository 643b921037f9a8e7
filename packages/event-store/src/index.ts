export * from './create-event-store.js';
export * from './errors.js';
export * from './esdb/index.js';
export { categoryOf, satisfiesExpectedRevision } from './expected-revision.js';
export * from './memory/index.js';
export * from './postgres/index.js';
export * from './types.js';

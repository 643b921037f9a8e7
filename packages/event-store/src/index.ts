export * from './create-event-store.js';
export * from './errors.js';
export { categoryOf, satisfiesExpectedRevision } from './expected-revision.js';
export * from './memory/index.js';
export * from './postgres/index.js';
export * from './types.js';

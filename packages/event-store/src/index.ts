export * from './create-event-store.js';
export * from './errors.js';
// The port and its shared errors only: no adapter (and no database driver) is loaded by this
// entry. createEventStore(url) loads the adapter the URL names; for direct use import
// '@mm/event-store/postgres', '@mm/event-store/memory' or '@mm/event-store/esdb'.
export type { EsdbEventStoreOptions, EsdbReconnectOptions } from './esdb/index.js';
export { categoryOf, satisfiesExpectedRevision } from './expected-revision.js';
export { logEventOf } from './log-event.js';
export * from './types.js';

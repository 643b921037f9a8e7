export * from './create-event-store.js';
export * from './errors.js';
// The EventStoreDB adapter is reached through createEventStore('esdb://…') (loaded lazily);
// import '@mm/event-store/esdb' for direct use.
export type { EsdbEventStoreOptions, EsdbReconnectOptions } from './esdb/index.js';
export { categoryOf, satisfiesExpectedRevision } from './expected-revision.js';
export * from './memory/index.js';
export * from './postgres/index.js';
export * from './types.js';

export { createEsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store.js';
export type { EsdbReconnectOptions } from './esdb-subscription.js';

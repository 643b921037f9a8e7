export { createEsdbEventStore, type EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store.js';
export type {
  PersistentDelivery,
  PersistentGroupOptions,
  PersistentGroupSubscription,
  PersistentOutcome,
} from './esdb-persistent.js';
export type { EsdbReconnectOptions } from './esdb-subscription.js';

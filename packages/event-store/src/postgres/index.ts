export { ChangeListener } from './change-listener.js';
export { EVENT_STORE_MIGRATIONS_TABLE, type MigrateEventStoreOptions, migrateEventStore } from './migrate.js';
export {
  createPostgresEventStore,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store.js';

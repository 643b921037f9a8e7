export {
  type ArchivedPartition,
  type ArchivePartitionsOptions,
  archivePartitions,
  type EventPartition,
  listEventPartitions,
} from './archive-partitions.js';
export { ChangeListener } from './change-listener.js';
export { isConnectionError } from './connection-errors.js';
export { inflateText } from './data-codec.js';
export { EVENT_STORE_MIGRATIONS_TABLE, type MigrateEventStoreOptions, migrateEventStore } from './migrate.js';
export {
  createPostgresEventStore,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store.js';
export { packageMigrationsDir, runSqlMigrations, type SqlMigrationsOptions } from './sql-migrations.js';

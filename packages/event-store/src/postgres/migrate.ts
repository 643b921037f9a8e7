import type pg from 'pg';
import { packageMigrationsDir, runSqlMigrations } from './sql-migrations.js';

export interface MigrateEventStoreOptions {
  /** A connection string, or an existing pool (a client is borrowed for the run). */
  connection: string | pg.Pool;
  /** Schema that holds the event store's tables. Created if missing. @defaultValue 'public' */
  schema?: string;
  /** Receives node-pg-migrate's log lines. @defaultValue silent */
  log?: (message: string) => void;
}

/** Name of the table in which node-pg-migrate records the event store's applied migrations (in the same schema). */
export const EVENT_STORE_MIGRATIONS_TABLE = 'event_store_migrations';

/** Brings the event store schema up to date (idempotent; concurrent callers wait for each other). */
export const migrateEventStore = (options: MigrateEventStoreOptions): Promise<void> =>
  runSqlMigrations({
    connection: options.connection,
    schema: options.schema ?? 'public',
    dir: packageMigrationsDir(import.meta.url),
    table: EVENT_STORE_MIGRATIONS_TABLE,
    ...(options.log ? { log: options.log } : {}),
  });

import { packageMigrationsDir, runSqlMigrations } from '@mm/event-store/postgres';
import type pg from 'pg';

/** Creates or updates the read-model tables in `schema`. */
export const migrateReadModels = (connection: string | pg.Pool, schema = 'read_models'): Promise<void> =>
  runSqlMigrations({ connection, schema, dir: packageMigrationsDir(import.meta.url), table: 'read_model_migrations' });

import { packageMigrationsDir, runSqlMigrations } from '@mm/event-store/postgres';
import type pg from 'pg';

/** Creates or updates the API's own tables (idempotency keys) in `schema`. */
export const migrateApiSchema = (connection: string | pg.Pool, schema = 'public'): Promise<void> =>
  runSqlMigrations({ connection, schema, dir: packageMigrationsDir(import.meta.url), table: 'api_migrations' });

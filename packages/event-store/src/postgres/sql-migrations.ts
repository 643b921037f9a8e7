import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { quoteIdentifier as quote } from './sql.js';

export interface SqlMigrationsOptions {
  /** A connection string, or a pool (one client is borrowed for the run). */
  connection: string | pg.Pool;
  /** Schema of the tables (created if missing). @defaultValue 'public' */
  schema?: string;
  /** Folder of `*.sql` migrations (node-pg-migrate's `-- Up Migration` / `-- Down Migration` format). */
  dir: string;
  /** Table recording the applied migrations, in `schema`. */
  table: string;
  log?: (message: string) => void;
}

/** Per schema+table advisory lock, so parallel test files in different schemas do not wait on each other. */
const lockValueFor = (key: string): number => {
  let hash = 0x5eed;
  for (const char of key) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
};

/** Runs SQL migrations with node-pg-migrate; idempotent, and concurrent callers wait for each other. */
export async function runSqlMigrations(options: SqlMigrationsOptions): Promise<void> {
  const schema = options.schema ?? 'public';
  const log = options.log ?? (() => undefined);
  const owned = typeof options.connection === 'string';
  const client = owned
    ? new pg.Client({ connectionString: options.connection as string })
    : await (options.connection as pg.Pool).connect();
  try {
    if (owned) await (client as pg.Client).connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`).catch((error: unknown) => {
      if ((error as { code?: string }).code !== '23505') throw error; // a parallel caller created it
    });
    await runner({
      dbClient: client,
      dir: options.dir,
      schema,
      migrationsTable: options.table,
      direction: 'up',
      lockValue: lockValueFor(`${schema}.${options.table}`),
      advisoryLockMode: 'wait',
      singleTransaction: true,
      logger: { debug: log, info: log, warn: log, error: log },
    });
  } finally {
    if (owned) await (client as pg.Client).end();
    else {
      await client.query('RESET search_path').catch(() => undefined);
      (client as pg.PoolClient).release();
    }
  }
}

/** `migrations/` next to the package.json above `moduleUrl` (works from src/ and from dist/src/). */
export function packageMigrationsDir(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return join(dir, 'migrations');
    dir = dirname(dir);
  }
  throw new Error(`no migrations/ folder next to a package.json above ${moduleUrl}`);
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { quoteIdentifier } from './sql.js';

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

/**
 * The SQL migrations ship in `<package>/migrations`. Walk up from this module so the same
 * code finds them from the TS sources (src/postgres) and from the build (dist/src/postgres).
 */
const findMigrationsDir = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('event-store: migrations directory not found next to package.json');
};

/** Advisory lock id per schema, so stores in different schemas migrate in parallel (node-pg-migrate's default id is global). */
const lockValueFor = (schema: string): number => {
  let hash = 0x5eed;
  for (const char of `mm-event-store:${schema}`) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
};

/** Brings the event store schema up to date (idempotent; concurrent callers wait for each other). */
export async function migrateEventStore(options: MigrateEventStoreOptions): Promise<void> {
  const schema = options.schema ?? 'public';
  const log = options.log ?? (() => undefined);
  const client =
    typeof options.connection === 'string'
      ? new pg.Client({ connectionString: options.connection })
      : await options.connection.connect();
  try {
    if (typeof options.connection === 'string') await (client as pg.Client).connect();
    // `createSchema` is racy between parallel callers before the lock is taken; do it here.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`).catch((error: unknown) => {
      if ((error as { code?: string }).code !== '23505') throw error;
    });
    await runner({
      dbClient: client,
      dir: findMigrationsDir(),
      schema,
      migrationsTable: EVENT_STORE_MIGRATIONS_TABLE,
      direction: 'up',
      lockValue: lockValueFor(schema),
      advisoryLockMode: 'wait',
      singleTransaction: true,
      logger: { debug: log, info: log, warn: log, error: log },
    });
  } finally {
    if (typeof options.connection === 'string') await (client as pg.Client).end();
    else {
      // The runner changed search_path on a borrowed pool client; put it back.
      await client.query('RESET search_path').catch(() => undefined);
      (client as pg.PoolClient).release();
    }
  }
}

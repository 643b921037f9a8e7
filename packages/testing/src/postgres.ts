import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const testDatabaseUrl = (): string =>
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';

export interface TestSchema {
  /** Random schema name, unique to this test file. */
  schema: string;
  connectionString: string;
  pool: pg.Pool;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** Creates a fresh PostgreSQL schema for one test file, so files can run in parallel. */
export async function createTestSchema(label = 't'): Promise<TestSchema> {
  const schema = `${label.replace(/\W/g, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  const connectionString = testDatabaseUrl();
  const pool = new pg.Pool({ connectionString, max: 5 });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return {
    schema,
    connectionString,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

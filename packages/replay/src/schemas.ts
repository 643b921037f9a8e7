import type pg from 'pg';
import { ReplayInputError } from './errors.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema name the replay commands accept: lower-case letters, digits and `_`, at most 63 characters. */
export function checkSchemaName(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new ReplayInputError(
      `schema name ${JSON.stringify(name)} is not allowed`,
      'use lower-case letters, digits and _ (at most 63 characters, not starting with a digit)',
    );
  return name;
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export async function schemaExists(pool: pg.Pool | pg.PoolClient, schema: string): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}

/** Throws the operator-facing error for a schema that is not there (listing the read-model schemas that are). */
export async function requireReadModelSchema(pool: pg.Pool, schema: string): Promise<void> {
  checkSchemaName(schema);
  const { rows } = await pool.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
    `${quoteIdent(schema)}.projection_checkpoints`,
  ]);
  if (rows[0]?.ok) return;
  const known = await listReadModelSchemas(pool);
  throw new ReplayInputError(
    `schema ${schema} does not exist or holds no read models`,
    known.length
      ? `read-model schemas here: ${known.join(', ')}`
      : 'build one with: pnpm mm rebuild read-models --into <schema>',
  );
}

/** Schemas that hold read models (a `projection_checkpoints` table next to `queue_entries`). */
export async function listReadModelSchemas(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables
      WHERE table_name = 'queue_entries'
        AND table_schema IN (SELECT table_schema FROM information_schema.tables WHERE table_name = 'projection_checkpoints')
      ORDER BY 1`,
  );
  return rows.map((r) => r.schema);
}

import { READ_MODELS_PROJECTION, readModelTables } from '@mm/projections';
import type pg from 'pg';

/** Position of the last event the read models of `schema` contain (-1: none). */
export async function readModelCheckpoint(db: pg.Pool | pg.PoolClient, schema: string): Promise<number> {
  const { rows } = await db.query<{ position: string }>(
    `SELECT position FROM ${readModelTables(schema).checkpoints} WHERE name = $1`,
    [READ_MODELS_PROJECTION],
  );
  return rows[0] ? Number(rows[0].position) : -1;
}

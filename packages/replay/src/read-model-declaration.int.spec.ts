import { migrateReadModels, READ_MODEL_BOOKKEEPING_TABLES, READ_MODEL_TABLE_DECLARATIONS } from '@mm/projections';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema('rm_decl');
  await migrateReadModels(db.pool, db.schema);
});
afterAll(async () => {
  await db?.drop();
});

describe('the read-model declaration (what mm diff compares)', () => {
  it('names every table the migrations create, with columns and keys that exist', async () => {
    const { rows } = await db.pool.query<{ table: string; column: string }>(
      `SELECT table_name AS table, column_name AS column FROM information_schema.columns WHERE table_schema = $1`,
      [db.schema],
    );
    const tables = new Set(rows.map((r) => r.table));
    const declared = READ_MODEL_TABLE_DECLARATIONS.map((t) => t.name);
    // A table added by a migration must be declared (compared) or bookkeeping, or mm diff would skip it.
    expect([...tables].filter((t) => !declared.includes(t) && !READ_MODEL_BOOKKEEPING_TABLES.includes(t))).toEqual([]);
    for (const t of READ_MODEL_TABLE_DECLARATIONS) {
      const columns = rows.filter((r) => r.table === t.name).map((r) => r.column);
      expect(columns, t.name).toEqual(expect.arrayContaining([...t.key, ...t.bookkeeping]));
    }
  });
});

import {
  READ_MODEL_BOOKKEEPING_TABLES,
  READ_MODEL_TABLE_DECLARATIONS,
  type ReadModelTableDeclaration,
} from '@mm/projections';
import type pg from 'pg';
import { ReplayInputError } from './errors.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { quoteIdent, requireReadModelSchema } from './schemas.js';

/** One row that differs: its key, and its content on each side (null: missing there). */
export interface DifferingRow {
  key: Record<string, unknown>;
  /** Columns whose values differ (all of them when the row is missing on one side). */
  columns: string[];
  a: Record<string, unknown> | null;
  b: Record<string, unknown> | null;
}

export interface TableDiff {
  table: string;
  rowsA: number;
  rowsB: number;
  /** Rows only in A, only in B, or different (bookkeeping columns left out). */
  differing: number;
  onlyInA: number;
  onlyInB: number;
  /** The first differing rows, by key. */
  rows: DifferingRow[];
}

export interface ReadModelDiff {
  schemaA: string;
  schemaB: string;
  checkpointA: number;
  checkpointB: number;
  tables: TableDiff[];
  /** Sum of the tables' differing rows. */
  differing: number;
  /** Bookkeeping left out, by declaration (packages/projections). */
  excluded: { tables: readonly string[]; columns: Record<string, readonly string[]> };
}

export interface DiffReadModelsOptions {
  /** Differing rows shown per table. @defaultValue 5 */
  limit?: number;
}

async function columnsOf(db: pg.PoolClient, schema: string, table: string): Promise<string[]> {
  const { rows } = await db.query<{ column: string }>(
    `SELECT column_name AS column FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  return rows.map((r) => r.column);
}

/**
 * Row-level comparison of every read-model table of two schemas, in one consistent snapshot
 * (REPEATABLE READ, read only): rows are paired by key, the bookkeeping columns declared in
 * packages/projections (`last_position`) are left out, and the first differing rows of each
 * table are returned. Use {@link compareReadModelsOn} to compare on a connection that already
 * holds what must not move.
 */
export async function diffReadModels(
  db: pg.Pool,
  schemaA: string,
  schemaB: string,
  options: DiffReadModelsOptions = {},
): Promise<ReadModelDiff> {
  await requireReadModelSchema(db, schemaA);
  await requireReadModelSchema(db, schemaB);
  const client = await db.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const diff = await compareReadModelsOn(client, schemaA, schemaB, options);
    await client.query('COMMIT');
    return diff;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The comparison itself, on the given connection (whatever transaction and locks it holds). */
export async function compareReadModelsOn(
  client: pg.PoolClient,
  schemaA: string,
  schemaB: string,
  options: DiffReadModelsOptions = {},
): Promise<ReadModelDiff> {
  const limit = options.limit ?? 5;
  const tables: TableDiff[] = [];
  for (const declaration of READ_MODEL_TABLE_DECLARATIONS)
    tables.push(await diffTable(client, schemaA, schemaB, declaration, limit));
  return {
    schemaA,
    schemaB,
    checkpointA: await readModelCheckpoint(client, schemaA),
    checkpointB: await readModelCheckpoint(client, schemaB),
    tables,
    differing: tables.reduce((n, t) => n + t.differing, 0),
    excluded: {
      tables: READ_MODEL_BOOKKEEPING_TABLES,
      columns: Object.fromEntries(READ_MODEL_TABLE_DECLARATIONS.map((t) => [t.name, t.bookkeeping])),
    },
  };
}

async function diffTable(
  client: pg.PoolClient,
  schemaA: string,
  schemaB: string,
  declaration: ReadModelTableDeclaration,
  limit: number,
): Promise<TableDiff> {
  const { name, key, bookkeeping } = declaration;
  const [columnsA, columnsB] = [await columnsOf(client, schemaA, name), await columnsOf(client, schemaB, name)];
  if (columnsA.length === 0 || columnsB.length === 0)
    throw new ReplayInputError(
      `table ${name} is missing in schema ${columnsA.length === 0 ? schemaA : schemaB}`,
      'both schemas must hold read models of the same version (run the projector or mm rebuild on it first)',
    );
  const compared = columnsA.filter((c) => !bookkeeping.includes(c));
  const onlyOneSide = [
    ...columnsA.filter((c) => !columnsB.includes(c)),
    ...columnsB.filter((c) => !columnsA.includes(c)),
  ];
  if (onlyOneSide.some((c) => !bookkeeping.includes(c)))
    throw new ReplayInputError(
      `table ${name} has different columns in ${schemaA} and ${schemaB} (${onlyOneSide.join(', ')})`,
      'migrate both schemas to the same version first',
    );
  const cols = compared.map(quoteIdent).join(', ');
  const on = key.map((k) => `a.${quoteIdent(k)} = b.${quoteIdent(k)}`).join(' AND ');
  const keyColumns = key.map((k, i) => `coalesce(a.${quoteIdent(k)}, b.${quoteIdent(k)}) AS k${i}`).join(', ');
  const { rows } = await client.query<{
    a: Record<string, unknown> | null;
    b: Record<string, unknown> | null;
    total: string;
    only_a: string;
    only_b: string;
  }>(
    `WITH a AS (SELECT ${cols} FROM ${quoteIdent(schemaA)}.${quoteIdent(name)}),
          b AS (SELECT ${cols} FROM ${quoteIdent(schemaB)}.${quoteIdent(name)}),
          d AS (SELECT CASE WHEN a.${quoteIdent(key[0]!)} IS NULL THEN NULL ELSE to_jsonb(a) END AS a,
                       CASE WHEN b.${quoteIdent(key[0]!)} IS NULL THEN NULL ELSE to_jsonb(b) END AS b,
                       ${keyColumns}
                  FROM a FULL JOIN b ON ${on}
                 WHERE ROW(a.*) IS DISTINCT FROM ROW(b.*))
     SELECT a, b, count(*) OVER () AS total,
            count(*) FILTER (WHERE b IS NULL) OVER () AS only_a,
            count(*) FILTER (WHERE a IS NULL) OVER () AS only_b
       FROM d ORDER BY ${key.map((_, i) => `k${i}`).join(', ')} LIMIT ${Number(limit) + 1}`,
  );
  const counts = await client.query<{ a: string; b: string }>(
    `SELECT (SELECT count(*) FROM ${quoteIdent(schemaA)}.${quoteIdent(name)}) AS a,
            (SELECT count(*) FROM ${quoteIdent(schemaB)}.${quoteIdent(name)}) AS b`,
  );
  const first = rows[0];
  return {
    table: name,
    rowsA: Number(counts.rows[0]!.a),
    rowsB: Number(counts.rows[0]!.b),
    differing: first ? Number(first.total) : 0,
    onlyInA: first ? Number(first.only_a) : 0,
    onlyInB: first ? Number(first.only_b) : 0,
    rows: rows.slice(0, limit).map((row) => {
      const side = row.a ?? row.b ?? {};
      return {
        key: Object.fromEntries(key.map((k) => [k, side[k]])),
        columns:
          row.a && row.b
            ? compared.filter((c) => JSON.stringify(row.a![c]) !== JSON.stringify(row.b![c]))
            : [...compared],
        a: row.a,
        b: row.b,
      };
    }),
  };
}

/** Differences as text: per table, counts and the first rows with the columns that differ. */
export function formatReadModelDiff(diff: ReadModelDiff): string {
  const lines = [
    `read models ${diff.schemaA} (checkpoint ${diff.checkpointA}) vs ${diff.schemaB} (checkpoint ${diff.checkpointB})`,
    `  left out by declaration: tables ${diff.excluded.tables.join(', ')}; columns ${Object.entries(
      diff.excluded.columns,
    )
      .map(([t, cs]) => `${t}.${cs.join('/')}`)
      .join(', ')}`,
  ];
  for (const t of diff.tables) {
    lines.push(
      `${t.differing === 0 ? 'same' : 'DIFF'} ${t.table.padEnd(14)} ${String(t.rowsA).padStart(9)} rows vs ${String(t.rowsB).padStart(9)}${t.differing ? ` — ${t.differing} differing (${t.onlyInA} only in ${diff.schemaA}, ${t.onlyInB} only in ${diff.schemaB})` : ''}`,
    );
    for (const row of t.rows) {
      const key = Object.values(row.key).join('/');
      if (!row.a) lines.push(`       ${key}: only in ${diff.schemaB}`);
      else if (!row.b) lines.push(`       ${key}: only in ${diff.schemaA}`);
      else
        lines.push(
          `       ${key}: ${row.columns.map((c) => `${c} ${JSON.stringify(row.a![c])} ≠ ${JSON.stringify(row.b![c])}`).join(', ')}`,
        );
    }
    if (t.differing > t.rows.length) lines.push(`       … and ${t.differing - t.rows.length} more`);
  }
  if (diff.checkpointA !== diff.checkpointB)
    lines.push(`note: the checkpoints differ — the schemas hold different prefixes of the log`);
  lines.push(diff.differing === 0 ? 'RESULT: the read models are equal' : `RESULT: ${diff.differing} differing row(s)`);
  return lines.join('\n');
}

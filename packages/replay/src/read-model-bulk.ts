import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { READ_MODELS_PROJECTION, readModelTables } from '@mm/projections';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  type BatchChanges,
  CHALLENGE_COLUMNS,
  type ChallengeRow,
  type FoldLookups,
  MATCH_COLUMNS,
  type MatchRow,
  QUEUE_ENTRY_COLUMNS,
  type QueueEntryRow,
  type ReadModelFold,
} from './read-model-fold.js';
import { quoteIdent } from './schemas.js';

/**
 * The bulk path of the rebuild ({@link ReadModelFold} folds the log into rows in memory, with
 * the handlers' semantics): one batch's changes written with COPY, with the checkpoint, in one
 * transaction on `client` — rows new to the schema copied into its tables, stored rows the
 * batch changed copied into a temporary table and written with one `UPDATE … FROM` per table,
 * then the checkpoint moved to the batch's last position.
 */
export async function writeBatch(
  client: pg.PoolClient,
  schema: string,
  changes: BatchChanges,
  lastPosition: number,
): Promise<void> {
  const s = quoteIdent(schema);
  const { queueEntries, matches, challenges } = changes;
  await client.query(`SET LOCAL synchronous_commit = off`); // a batch lost in a crash is replayed on resume
  await copyRows(client, `${s}.queue_entries`, QUEUE_ENTRY_COLUMNS, queueEntries.inserted);
  await copyRows(client, `${s}.matches`, MATCH_COLUMNS, matches.inserted);
  await copyRows(client, `${s}.challenges`, CHALLENGE_COLUMNS, challenges.inserted);
  await updateRows(
    client,
    schema,
    'queue_entries',
    QUEUE_ENTRY_COLUMNS,
    ['tenant_id', 'queue_entry_id'],
    queueEntries.updated,
  );
  await updateRows(client, schema, 'matches', MATCH_COLUMNS, ['tenant_id', 'match_id'], matches.updated);
  await updateRows(client, schema, 'challenges', CHALLENGE_COLUMNS, ['tenant_id', 'challenge_id'], challenges.updated);
  const checkpoints = readModelTables(schema).checkpoints;
  await client.query(
    `INSERT INTO ${checkpoints} (name, position, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET position = GREATEST(${checkpoints}.position, EXCLUDED.position), updated_at = now()`,
    [READ_MODELS_PROJECTION, lastPosition],
  );
}

/** Every column as text (times and numbers round-trip exactly through their text form), `last_position` as a number. */
const selectList = (columns: readonly string[]): string =>
  columns.map((c) => (c === 'last_position' ? `${c}::float8 AS ${c}` : `${c}::text AS ${c}`)).join(', ');

/** Reads the stored rows `lookups` names into the fold. */
export async function loadStored(
  client: pg.Pool | pg.PoolClient,
  schema: string,
  lookups: FoldLookups,
  fold: ReadModelFold,
): Promise<void> {
  const s = quoteIdent(schema);
  const select = async <R extends pg.QueryResultRow>(
    table: string,
    columns: readonly string[],
    where: string,
    pairs: Map<string, [string, string]>,
    load: (row: R) => void,
  ) => {
    if (pairs.size === 0) return;
    const tenants: string[] = [];
    const ids: string[] = [];
    for (const [tenant, id] of pairs.values()) {
      tenants.push(tenant);
      ids.push(id);
    }
    const { rows } = await client.query<R>(
      `SELECT ${selectList(columns)} FROM ${s}.${table}
        WHERE ${where} IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [tenants, ids],
    );
    for (const row of rows) load(row);
  };
  const entry = (row: QueueEntryRow) => fold.loadEntry(row);
  await select('queue_entries', QUEUE_ENTRY_COLUMNS, '(tenant_id, queue_entry_id)', lookups.entries, entry);
  await select(
    'queue_entries',
    QUEUE_ENTRY_COLUMNS,
    'match_id IS NOT NULL AND (tenant_id, match_id)',
    lookups.entriesByMatch,
    entry,
  );
  await select(
    'queue_entries',
    QUEUE_ENTRY_COLUMNS,
    'held_by_match_id IS NOT NULL AND (tenant_id, held_by_match_id)',
    lookups.entriesByHolder,
    entry,
  );
  await select('matches', MATCH_COLUMNS, '(tenant_id, match_id)', lookups.matches, (row: MatchRow) =>
    fold.loadMatch(row),
  );
  const challenge = (row: ChallengeRow) => fold.loadChallenge(row);
  await select('challenges', CHALLENGE_COLUMNS, '(tenant_id, challenge_id)', lookups.challenges, challenge);
  await select(
    'challenges',
    CHALLENGE_COLUMNS,
    'match_id IS NOT NULL AND (tenant_id, match_id)',
    lookups.challengesByMatch,
    challenge,
  );
}

/**
 * Writes COPY text (`pieces`: lines of its text format, each ending in a newline) into `table`;
 * no statement when there is none. The pieces are read as the COPY takes them.
 */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  pieces: Iterable<string>,
): Promise<void> {
  const text = nonEmpty(pieces);
  if (!text) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(text), stream);
}

/** `pieces` as an iterable that gives each of them once, or null when there is none (reads the first to know). */
function nonEmpty(pieces: Iterable<string>): Iterable<string> | null {
  const iterator = pieces[Symbol.iterator]();
  const first = iterator.next();
  if (first.done) return null;
  return (function* () {
    yield first.value;
    for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
  })();
}

async function updateRows(
  client: pg.PoolClient,
  schema: string,
  table: string,
  columns: readonly string[],
  key: readonly string[],
  rows: Iterable<string>,
): Promise<void> {
  const text = nonEmpty(rows);
  if (!text) return;
  const target = `${quoteIdent(schema)}.${table}`;
  const temp = `mm_rebuild_${table}`;
  await client.query(`CREATE TEMP TABLE ${temp} (LIKE ${target}) ON COMMIT DROP`);
  await copyRows(client, temp, columns, text);
  const set = columns.filter((c) => !key.includes(c)).map((c) => `${c} = s.${c}`);
  await client.query(
    `UPDATE ${target} t SET ${set.join(', ')} FROM ${temp} s WHERE ${key.map((c) => `t.${c} = s.${c}`).join(' AND ')}`,
  );
  await client.query(`DROP TABLE ${temp}`);
}

const DEFERRED = 'mm rebuild: indexes deferred until the rebuild ends: ';

/**
 * Partial indexes of rows in a passing state (searching, matched without a game yet, creating a
 * game, a pending challenge): they hold few rows at any time, so keeping them up to date while the
 * rows are written costs less than building each with its own scan of the table at the end.
 */
export const LIVE_INDEXES: ReadonlySet<string> = new Set([
  'queue_entries_searching',
  'queue_entries_claimed_without_game',
  'matches_creating_game',
  'challenges_incoming',
  'challenges_outgoing',
]);
const READ_MODEL_TABLES = ['queue_entries', 'matches', 'challenges'] as const;

/**
 * A rebuild into an empty schema writes its rows faster without the secondary indexes (the
 * primary keys and {@link LIVE_INDEXES} stay): their definitions are kept in the tables' comments, the indexes dropped,
 * in one transaction; {@link restoreIndexes} builds them again when the rebuild ends — or, after
 * an interrupt, when the run that resumes it ends.
 */
export async function deferIndexes(db: pg.Pool, schema: string): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    for (const table of READ_MODEL_TABLES) {
      const { rows } = await client.query<{ name: string; definition: string }>(
        `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
          WHERE i.schemaname = $1 AND i.tablename = $2
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
          ORDER BY 1`,
        [schema, table],
      );
      const deferred = rows.filter((r) => !LIVE_INDEXES.has(r.name));
      if (deferred.length === 0) continue;
      const kept = deferred.map((r) => {
        const parts = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ (USING .*)$/.exec(r.definition);
        if (!parts) throw new Error(`cannot defer index ${r.name}: ${r.definition}`);
        return { name: r.name, unique: Boolean(parts[1]), using: parts[2]! };
      });
      const target = `${quoteIdent(schema)}.${table}`;
      await client.query(`COMMENT ON TABLE ${target} IS ${pgLiteral(DEFERRED + JSON.stringify(kept))}`);
      for (const index of kept) await client.query(`DROP INDEX ${quoteIdent(schema)}.${quoteIdent(index.name)}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Builds the indexes {@link deferIndexes} dropped (nothing when none are deferred): each index in
 * its own statement, up to three at a time on connections of `db`, each build without parallel
 * workers (three builds keep two cores busy; a build's workers cost ≈ 20 % more CPU for no gain in
 * time); each is `IF NOT EXISTS`, so a run cut short builds the rest next time; then
 * the tables' notes cleared in one transaction.
 */
export async function restoreIndexes(db: pg.Pool, schema: string): Promise<number> {
  const { rows } = await db.query<{ table: string; comment: string }>(
    `SELECT c.relname AS table, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c
      WHERE c.relnamespace = $1::regnamespace AND c.relname = ANY($2) AND obj_description(c.oid, 'pg_class') LIKE $3`,
    [quoteIdent(schema), READ_MODEL_TABLES, `${DEFERRED}%`],
  );
  if (rows.length === 0) return 0;
  const statements: string[] = [];
  for (const { table, comment } of rows) {
    const kept = JSON.parse(comment.slice(DEFERRED.length)) as { name: string; unique: boolean; using: string }[];
    const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
    for (const index of kept)
      statements.push(
        `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteIdent(index.name)} ON ${target} ${index.using}`,
      );
  }
  let next = 0;
  let failed = false;
  const builder = async () => {
    if (next >= statements.length) return;
    const client = await db.connect();
    let reset = false;
    try {
      // three builds at a time already keep the cores busy: no parallel workers per build
      await client.query('SET max_parallel_maintenance_workers = 0');
      while (next < statements.length && !failed)
        await client.query(statements[next++]!).catch((error: unknown) => {
          failed = true;
          throw error;
        });
      await client.query('RESET max_parallel_maintenance_workers');
      reset = true;
    } finally {
      client.release(!reset); // a connection left with the setting is closed, not pooled
    }
  };
  const built = await Promise.allSettled([builder(), builder(), builder()]);
  for (const result of built) if (result.status === 'rejected') throw result.reason;
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    for (const { table } of rows)
      await client.query(`COMMENT ON TABLE ${quoteIdent(schema)}.${quoteIdent(table)} IS NULL`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return statements.length;
}

const pgLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * What the read models are, for tools that compare or copy them (`mm diff read-models`, the
 * I6 audit): every read-model table with its key, and the columns that are projection
 * bookkeeping rather than content — they depend on where in the log a row was last touched
 * and on how the rows were built, not on what the log says, so two builds of the same log may
 * differ there. A new table or bookkeeping column is declared here, next to its migration.
 */
export interface ReadModelTableDeclaration {
  /** Table name inside the read-model schema. */
  name: string;
  /** Primary key columns (rows of two builds are paired by them). */
  key: readonly string[];
  /** Columns left out of comparisons. */
  bookkeeping: readonly string[];
}

export const READ_MODEL_TABLE_DECLARATIONS: readonly ReadModelTableDeclaration[] = [
  { name: 'queue_entries', key: ['tenant_id', 'queue_entry_id'], bookkeeping: ['last_position'] },
  { name: 'matches', key: ['tenant_id', 'match_id'], bookkeeping: ['last_position'] },
  { name: 'challenges', key: ['tenant_id', 'challenge_id'], bookkeeping: ['last_position'] },
];

/** Tables of a read-model schema that are bookkeeping only (checkpoints, the migrations table). */
export const READ_MODEL_BOOKKEEPING_TABLES: readonly string[] = [
  'projection_checkpoints',
  'read_model_migrations',
  'read_model_retention',
];

import pg from 'pg';

/** One SQL literal for a parameter value (strings, numbers, booleans, null; objects as JSON). */
const literal = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot inline ${value} into SQL`);
    return `'${value}'`;
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  if (typeof value === 'string') return pg.escapeLiteral(value);
  return pg.escapeLiteral(JSON.stringify(value));
};

/** `text` with `$n` replaced by the escaped literal of `params[n-1]` (typed by context, as with bind parameters). */
export const inlineParams = (text: string, params: readonly unknown[] = []): string =>
  text.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new RangeError(`no value for $${n}`);
    return literal(params[index]);
  });

/**
 * Collects the statements of a batch so they can be sent as one multi-statement query:
 * the batch's transaction then stays open for the server's execution time only, not for
 * one network round trip per statement. That matters beyond speed: with the PostgreSQL
 * event store, an open write transaction holds back event delivery for every subscriber
 * (see packages/event-store/README.md), so short read-model transactions mean fast live
 * delivery everywhere.
 */
export class SqlBatch {
  private readonly statements: string[] = [];

  /** Same signature as `pg.ClientBase#query` for the statements the read-model handlers issue; results are not used. */
  async query(text: string, params?: readonly unknown[]): Promise<{ rows: never[]; rowCount: null }> {
    this.statements.push(inlineParams(text, params));
    return { rows: [], rowCount: null };
  }

  get size(): number {
    return this.statements.length;
  }

  /**
   * One round trip. A simple-protocol query with several statements runs as one implicit
   * transaction: all of them commit, or none (and the connection is left clean).
   */
  async run(pool: pg.Pool): Promise<void> {
    if (this.statements.length === 0) return;
    await pool.query(this.statements.join(';\n'));
  }
}

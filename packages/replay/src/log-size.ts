import type pg from 'pg';
import type { LogBound } from './log-bound.js';
import { quoteIdent } from './schemas.js';

/**
 * How many events of our categories the PostgreSQL event store holds after `after` (up to
 * `to`): the total of a progress bar. Reads the adapter's table directly, so it is only for
 * display; undefined when the count fails (another adapter, no access).
 */
export async function countLogEvents(
  db: pg.Pool,
  eventStoreSchema: string,
  options: { after?: number; to?: LogBound; categories?: string[] } = {},
): Promise<number | undefined> {
  const params: unknown[] = [options.after ?? -1, options.categories ?? ['player', 'match', 'challenge']];
  let bound = '';
  if (options.to) {
    params.push('position' in options.to ? options.to.position : options.to.time.toISOString());
    bound = 'position' in options.to ? ' AND position <= $3' : ' AND recorded_at <= $3';
  }
  try {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoteIdent(eventStoreSchema)}.events
        WHERE position > $1${bound}
          AND category_id IN (SELECT id FROM ${quoteIdent(eventStoreSchema)}.event_categories WHERE name = ANY($2))`,
      params,
    );
    return Number(rows[0]!.n);
  } catch {
    return undefined;
  }
}

/** Quotes an SQL identifier (schema names come from configuration, never from users, but quote anyway). */
export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Events per transaction are numbered in the low 16 bits of the position. */
export const POSITION_SHIFT = 65536;

/** NOTIFY channel of the append function; the payload is the schema name. */
export const NOTIFY_CHANNEL = 'mm_event_store';

/** Encoding of the non-numeric expected revisions for `append_events`. */
export const EXPECTED_REVISION_CODE = { no_stream: -1, any: -2, stream_exists: -3 } as const;

export const EVENT_COLUMNS =
  'e.position, e.stream_name, e.revision, e.id, e.type, e.schema_version, e.data, e.metadata, e.recorded_at';

export interface FilterShape {
  categories: boolean;
  eventTypes: boolean;
  /** metadata.tenantId (index events_tenant_position_idx). */
  tenant?: boolean;
}

/**
 * One statement that reads a page of the global log *and* the delivery horizon from the same
 * snapshot. Only rows of transactions below the snapshot's xmin are returned: those have all
 * finished, and every transaction still to commit has an xid >= xmin, so nothing can later
 * appear below a returned position. The outer LEFT JOIN keeps one row (with NULL event
 * columns) when the page is empty, so the horizon always comes back.
 * Parameters: $1 after, $2 limit, then categories / event types / tenant id as present, in that order.
 */
export const pageQuery = (table: string, shape: FilterShape): string => {
  const conditions = ['e.position > $1', 'e.position < h.horizon', 'e.transaction_id < h.xmin'];
  let next = 3;
  if (shape.categories) conditions.push(`e.category = ANY($${next++}::text[])`);
  if (shape.eventTypes) conditions.push(`e.type = ANY($${next++}::text[])`);
  if (shape.tenant) conditions.push(`(e.metadata->>'tenantId') = $${next++}::text`);
  return `SELECT h.horizon, h.head, p.*
FROM (SELECT s.xmin, s.xmin::text::bigint * ${POSITION_SHIFT} AS horizon,
             (SELECT max(position) FROM ${table}) AS head
        FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) s) h
LEFT JOIN LATERAL (
  SELECT ${EVENT_COLUMNS} FROM ${table} e
  WHERE ${conditions.join(' AND ')}
  ORDER BY e.position LIMIT $2
) p ON true
ORDER BY p.position`;
};

/** Quotes an SQL identifier (schema names come from configuration, never from users, but quote anyway). */
export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Events per transaction are numbered in the low 16 bits of the position. */
export const POSITION_SHIFT = 65536;

/** NOTIFY channel of the append function; the payload is the schema name. */
export const NOTIFY_CHANNEL = 'mm_event_store';

/** Encoding of the non-numeric expected revisions for `append_events`. */
export const EXPECTED_REVISION_CODE = { no_stream: -1, any: -2, stream_exists: -3 } as const;

/**
 * The columns of a stored event (migration 1700000000003: compact envelope; 1700000000006: data
 * compressed), for `toEvent` in
 * the adapter: the type name comes from `event_types`, the metadata is put together from its
 * columns and `metadata_extra`.
 */
export const eventColumns = (schema: string): string =>
  `e.position, e.stream_name, e.revision, e.id,
   (SELECT t.name FROM ${quoteIdentifier(schema)}.event_types t WHERE t.id = e.type_id) AS type,
   e.schema_version, e.data, e.tenant_id, e.correlation_uuid, e.correlation_text, e.causation_uuid,
   e.causation_text, e.actor_type, e.actor_id, e.metadata_extra, e.recorded_at, e.data_dictionary_id, e.data_deflated`;

export interface FilterShape {
  categories: boolean;
  eventTypes: boolean;
  /** metadata.tenantId (column tenant_id, index events_tenant_position_idx). */
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
export const pageQuery = (schema: string, shape: FilterShape): string => {
  const s = quoteIdentifier(schema);
  const table = `${s}.events`;
  const conditions = ['e.position > $1', 'e.position < h.horizon'];
  let next = 3;
  if (shape.categories)
    conditions.push(
      `e.category_id = ANY(ARRAY(SELECT c.id FROM ${s}.event_categories c WHERE c.name = ANY($${next++}::text[])))`,
    );
  if (shape.eventTypes)
    conditions.push(
      `e.type_id = ANY(ARRAY(SELECT t.id FROM ${s}.event_types t WHERE t.name = ANY($${next++}::text[])))`,
    );
  if (shape.tenant) conditions.push(`e.tenant_id = $${next++}::text`);
  return `SELECT h.horizon, h.head, p.*
FROM (SELECT s.xmin::text::bigint * ${POSITION_SHIFT} AS horizon,
             (SELECT max(position) FROM ${table}) AS head
        FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) s) h
LEFT JOIN LATERAL (
  SELECT ${eventColumns(schema)} FROM ${table} e
  WHERE ${conditions.join(' AND ')}
  ORDER BY e.position LIMIT $2
) p ON true
ORDER BY p.position`;
};

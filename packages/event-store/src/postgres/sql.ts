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
 * compressed; 1700000000007: the stream name as category id + key or uuid, service and system
 * actors referenced), for `toEvent` in the adapter: the names behind the ids (type, category,
 * actor) come from `EventNames`, the metadata from its columns and `metadata_extra`.
 */
export const EVENT_COLUMNS = `e.position, e.category_id, e.stream_key, e.stream_uuid, e.revision, e.id, e.type_id,
   e.schema_version, e.data, e.tenant_id, e.correlation_uuid, e.correlation_text, e.causation_uuid,
   e.causation_text, e.actor_type, e.actor_id, e.actor_ref, e.metadata_extra, e.recorded_at,
   e.data_dictionary_id, e.data_deflated`;

/**
 * The rows of one stream, whose name is the SQL expression `name` (a parameter): through the
 * stream index (`event_stream_hash` of category id, key and uuid — written as in the index so
 * that the planner uses it), then the parts compared (hash collisions). The parts of the name
 * are scalar subqueries, computed once per statement rather than once per row. A category never
 * used has no id: then nothing matches. Migration 1700000000007.
 */
export const streamCondition = (schema: string, alias: string, name: string): string => {
  const s = quoteIdentifier(schema);
  const category = `(SELECT ${s}.event_stream_category_id(${name}))`;
  const key = `(SELECT ${s}.event_stream_key(${name}))`;
  const uuid = `(SELECT ${s}.event_stream_uuid(${name}))`;
  return `${s}.event_stream_hash(${alias}.category_id, ${alias}.stream_key, ${alias}.stream_uuid) = ${s}.event_stream_hash(${category}, ${key}, ${uuid})
     AND ${alias}.category_id = ${category} AND ${alias}.stream_key IS NOT DISTINCT FROM ${key}
     AND ${alias}.stream_uuid IS NOT DISTINCT FROM ${uuid}`;
};

/**
 * A stream's rows in revision order (`ORDER BY`): the stream index holds the revision as
 * `event_stream_revision` (32 bits, capped), so the order goes through it first (the index
 * order), then through the revision itself (exact also past the cap). Migration 1700000000007.
 */
export const streamOrder = (schema: string, alias: string, direction: 'forwards' | 'backwards'): string => {
  const order = direction === 'forwards' ? 'ASC' : 'DESC';
  return `${quoteIdentifier(schema)}.event_stream_revision(${alias}.revision) ${order}, ${alias}.revision ${order}`;
};

/**
 * A stream's rows from revision `from` (an SQL expression) on in `direction`: the bound through
 * `event_stream_revision` (the index range) and through the revision itself (exact).
 */
export const streamFrom = (
  schema: string,
  alias: string,
  from: string,
  direction: 'forwards' | 'backwards',
): string => {
  const op = direction === 'forwards' ? '>=' : '<=';
  return `${quoteIdentifier(schema)}.event_stream_revision(${alias}.revision) ${op} ${quoteIdentifier(schema)}.event_stream_revision(${from})
     AND ${alias}.revision ${op} ${from}`;
};

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
  SELECT ${EVENT_COLUMNS} FROM ${table} e
  WHERE ${conditions.join(' AND ')}
  ORDER BY e.position LIMIT $2
) p ON true
ORDER BY p.position`;
};

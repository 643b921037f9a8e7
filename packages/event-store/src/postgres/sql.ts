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
 * The columns `readLog` selects (migration 1700000000007's layout): what a projection applies,
 * for `toLogEvent` in the adapter — the type's name comes from `EventNames`, the data is decoded
 * by the codec. No id, stream, revision or metadata columns: a replay of the whole log reads
 * about a third of a row's columns and the driver parses none of them (rows.ts).
 */
export const LOG_COLUMNS =
  'e.position, e.type_id, e.schema_version, e.tenant_id, e.data, e.data_dictionary_id, e.data_deflated';

/** `recorded_at` in whole milliseconds since the epoch (what a `Date` of it holds), for `readLog` with `recordedAt`. */
export const LOG_TIME_COLUMN = 'floor(extract(epoch FROM e.recorded_at) * 1000)::float8 AS recorded_ms';

/**
 * The rows of one stream, whose name is the SQL expression `name` and whose category id is
 * `categoryId` (parameters; the adapter looks the id up, see `EventNames.categoryId`): through
 * the stream index (`event_stream_hash` of category id, key and uuid — written as in the index
 * so that the planner uses it), then the parts compared (hash collisions). The parts are
 * immutable functions of the parameters, so a custom plan sees them as constants (and the
 * statistics of the stream's hash), as it saw the name before migration 1700000000007. The parts
 * are compared with `=` / `IS NULL` (which fold to one of them), not `IS NOT DISTINCT FROM`: its
 * estimate of a row or so made PostgreSQL scan a long stream whole instead of stepping down the
 * index for `max` or a page.
 */
export const streamCondition = (schema: string, alias: string, name: string, categoryId: string): string => {
  const s = quoteIdentifier(schema);
  const key = `${s}.event_stream_key(${name})`;
  const uuid = `${s}.event_stream_uuid(${name})`;
  return `${s}.event_stream_hash(${alias}.category_id, ${alias}.stream_key, ${alias}.stream_uuid) = ${s}.event_stream_hash(${categoryId}, ${key}, ${uuid})
     AND ${alias}.category_id = ${categoryId}
     AND (${alias}.stream_key = ${key} OR (${alias}.stream_key IS NULL AND ${key} IS NULL))
     AND (${alias}.stream_uuid = ${uuid} OR (${alias}.stream_uuid IS NULL AND ${uuid} IS NULL))`;
};

/** `event_stream_revision` keeps revisions below this as they are; the ones from it on share it. */
const REVISION_CAP = 2147483647;

/**
 * A stream's rows from revision `from` on (both SQL expressions: `from` a bigint, `limit` a
 * bigint or NULL for all), in revision order. The stream index holds `event_stream_revision`:
 * the revision below the cap, where the index order is the revision order (read without a sort,
 * whatever the planner estimates — a long pool stream read a page at a time stays a page), and
 * the cap for revisions from 2^31 − 1 on, which are sorted by revision (a stream that long still
 * reads right). Migration 1700000000007.
 */
export const streamRowsQuery = (
  schema: string,
  name: string,
  categoryId: string,
  from: string,
  limit: string,
  direction: 'forwards' | 'backwards',
): string => {
  const s = quoteIdentifier(schema);
  const key = `${s}.event_stream_revision(e.revision)`;
  const [op, order] = direction === 'forwards' ? ['>=', 'ASC'] : ['<=', 'DESC'];
  const stream = streamCondition(schema, 'e', name, categoryId);
  return `SELECT * FROM (
  (SELECT ${EVENT_COLUMNS} FROM ${s}.events e
    WHERE ${stream} AND ${key} ${op} ${s}.event_stream_revision(${from}) AND ${key} < ${REVISION_CAP}
      AND e.revision ${op} ${from}
    ORDER BY ${key} ${order} LIMIT ${limit})
  UNION ALL
  (SELECT ${EVENT_COLUMNS} FROM ${s}.events e
    WHERE ${stream} AND ${key} = ${REVISION_CAP} AND e.revision ${op} ${from}
    ORDER BY e.revision ${order} LIMIT ${limit})
) e ORDER BY e.revision ${order} LIMIT ${limit}`;
};

/**
 * A stream's last revision in the log (NULL when it has no event there): the largest index key,
 * one step down the stream index (as `max(revision)` was before migration 1700000000007), unless
 * that is the cap — then the largest revision of the rows at the cap.
 */
export const lastRevisionQuery = (schema: string, name: string, categoryId: string): string => {
  const s = quoteIdentifier(schema);
  const key = `${s}.event_stream_revision(e.revision)`;
  const stream = streamCondition(schema, 'e', name, categoryId);
  return `coalesce(
    (SELECT max(e.revision) FROM ${s}.events e WHERE ${stream} AND ${key} = ${REVISION_CAP}),
    (SELECT max(${key})::bigint FROM ${s}.events e WHERE ${stream}))`;
};

export interface FilterShape {
  categories: boolean;
  eventTypes: boolean;
  /** metadata.tenantId (column tenant_id, index events_tenant_position_idx). */
  tenant?: boolean;
}

/**
 * The horizon of a statement's own snapshot: its oldest running transaction, as a position.
 * Every row below it is final — its transaction has finished, and every transaction still to
 * commit has a larger id (see {@link pageQuery}).
 */
const SNAPSHOT_HORIZON = `(SELECT pg_snapshot_xmin(pg_current_snapshot()))::text::bigint * ${POSITION_SHIFT}`;

/** The conditions of a log filter on the rows `e` of `${s}.events`, each value given as SQL (a parameter or a literal). */
const filterConditions = (s: string, filter: { categories?: string; eventTypes?: string; tenantId?: string }) => {
  const conditions: string[] = [];
  if (filter.categories !== undefined)
    conditions.push(
      `e.category_id = ANY(ARRAY(SELECT c.id FROM ${s}.event_categories c WHERE c.name = ANY(${filter.categories})))`,
    );
  if (filter.eventTypes !== undefined)
    conditions.push(
      `e.type_id = ANY(ARRAY(SELECT t.id FROM ${s}.event_types t WHERE t.name = ANY(${filter.eventTypes})))`,
    );
  if (filter.tenantId !== undefined) conditions.push(`e.tenant_id = ${filter.tenantId}`);
  return conditions;
};

/**
 * One statement that reads a page of the global log *and* the delivery horizon from the same
 * snapshot. Only rows of transactions below the snapshot's xmin are returned: those have all
 * finished, and every transaction still to commit has an xid >= xmin, so nothing can later
 * appear below a returned position. The outer LEFT JOIN keeps one row (with NULL event
 * columns) when the page is empty, so the horizon always comes back.
 * Parameters: $1 after, $2 limit, then categories / event types / tenant id as present, in that order.
 * `columns`: the event columns selected (`EVENT_COLUMNS`, or `LOG_COLUMNS` for `readLog`).
 * `sorted: false` leaves out the outer `ORDER BY` (PostgreSQL sorts the page again after the
 * lateral join, ≈ a third of a 2,000-row page's time): the rows then come in the lateral
 * subquery's order in practice, and the caller checks the order and sorts if it is not
 * (`readLog`).
 *
 * With `givenHorizon`, the horizon is the last parameter instead: one that
 * `event_delivery_horizon()` (migration 1700000000009) returned in an earlier statement, before
 * this statement's snapshot — the appending transactions' horizon, which a long transaction that
 * appends nothing does not hold back.
 */
export const pageQuery = (
  schema: string,
  shape: FilterShape,
  givenHorizon = false,
  columns = EVENT_COLUMNS,
  sorted = true,
): string => {
  const s = quoteIdentifier(schema);
  const table = `${s}.events`;
  let next = 3;
  const conditions = [
    'e.position > $1',
    'e.position < h.horizon',
    ...filterConditions(s, {
      ...(shape.categories ? { categories: `$${next++}::text[]` } : {}),
      ...(shape.eventTypes ? { eventTypes: `$${next++}::text[]` } : {}),
      ...(shape.tenant ? { tenantId: `$${next++}::text` } : {}),
    }),
  ];
  const horizon = givenHorizon ? `$${next++}::bigint` : SNAPSHOT_HORIZON;
  return `SELECT h.horizon, h.head, p.*
FROM (SELECT ${horizon} AS horizon, (SELECT max(position) FROM ${table}) AS head) h
LEFT JOIN LATERAL (
  SELECT ${columns} FROM ${table} e
  WHERE ${conditions.join(' AND ')}
  ORDER BY e.position LIMIT $2
) p ON true${sorted ? '\nORDER BY p.position' : ''}`;
};

/** A string as an SQL literal (`E'…'` when it holds a backslash), for statements that take no parameters (COPY). */
export const quoteLiteral = (text: string): string => {
  if (text.includes('\u0000')) throw new Error('a filter value holds a NUL character');
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
};

const textArray = (values: readonly string[]): string =>
  values.length === 0 ? `ARRAY[]::text[]` : `ARRAY[${values.map(quoteLiteral).join(', ')}]::text[]`;

/**
 * `readLog`'s rows as one `COPY (…) TO STDOUT (FORMAT binary)` statement: the events after
 * `after` in position order, at most `limit`, below the horizon of the statement's own snapshot
 * (its oldest running transaction, as `pageQuery`'s — every row returned is final), with the
 * filter inlined (COPY takes no parameters). Columns, cast to the binary layout the reader
 * expects (log-copy.ts): position int8, type id int2, schema version int2, tenant text, data
 * as JSON text, dictionary id int2, deflated bytes, and with `recordedAt` the time as float8
 * milliseconds.
 */
export const copyLogQuery = (
  schema: string,
  filter: { categories?: readonly string[]; eventTypes?: readonly string[]; tenantId?: string } | undefined,
  after: number,
  limit: number,
  recordedAt: boolean,
): string => {
  if (!Number.isSafeInteger(after) || !Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`copyLogQuery: bad range after ${after} limit ${limit}`);
  const s = quoteIdentifier(schema);
  const conditions = [
    `e.position > ${after}`,
    `e.position < ${SNAPSHOT_HORIZON}`,
    ...filterConditions(s, {
      ...(filter?.categories ? { categories: textArray(filter.categories) } : {}),
      ...(filter?.eventTypes ? { eventTypes: textArray(filter.eventTypes) } : {}),
      ...(filter?.tenantId !== undefined ? { tenantId: quoteLiteral(filter.tenantId) } : {}),
    }),
  ];
  const time = recordedAt ? `, floor(extract(epoch FROM e.recorded_at) * 1000)::float8` : '';
  return `COPY (SELECT e.position::int8, e.type_id::int2, e.schema_version::int2, e.tenant_id::text, e.data::text,
    e.data_dictionary_id::int2, e.data_deflated::bytea${time}
  FROM ${s}.events e WHERE ${conditions.join(' AND ')}
  ORDER BY e.position LIMIT ${limit}) TO STDOUT (FORMAT binary)`;
};

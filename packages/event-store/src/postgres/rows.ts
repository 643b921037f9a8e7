import type pg from 'pg';
import type { Actor, EventMetadata, Json, LogEvent, RecordedEvent } from '../types.js';
import type { DataCodec } from './data-codec.js';
import { quoteIdentifier } from './sql.js';

/** A row of `events` as `EVENT_COLUMNS` selects it. */
export interface EventRow {
  position: string | null;
  /** The stream name is `event_categories.name` of `category_id`, then `-` and the key or uuid if any. */
  category_id: number;
  stream_key: string | null;
  stream_uuid: string | null;
  revision: string;
  id: string;
  type_id: number;
  schema_version: number;
  /** NULL when the data is stored compressed (`data_deflated`). */
  data: RecordedEvent['data'] | null;
  data_dictionary_id: number | null;
  data_deflated: Buffer | null;
  tenant_id: string;
  correlation_uuid: string | null;
  correlation_text: string | null;
  causation_uuid: string | null;
  causation_text: string | null;
  actor_type: string | null;
  /** The actor id of a user (else NULL: `actor_ref`, or no actor columns when `actor_type` is NULL). */
  actor_id: string | null;
  /** `event_actors.id` of a service or system actor. */
  actor_ref: number | null;
  metadata_extra: Record<string, Json> | null;
  recorded_at: Date;
}

type NameTable = 'event_types' | 'event_categories' | 'event_actors';

/**
 * The names behind the ids a row stores — event types, categories (the start of stream names),
 * service and system actors. A name is registered once and never changed, so a store keeps what
 * it has read for as long as it runs, and asks for an id only the first time it sees it (reads
 * join nothing: cheaper per row than a lookup in SQL).
 */
export class EventNames {
  readonly #db: pg.Pool;
  readonly #schema: string;
  readonly #names: Record<NameTable, Map<number, string>> = {
    event_types: new Map(),
    event_categories: new Map(),
    event_actors: new Map(),
  };

  readonly #categoryIds = new Map<string, number>();

  constructor(db: pg.Pool, schema: string) {
    this.#db = db;
    this.#schema = quoteIdentifier(schema);
  }

  /** Loads the names these rows need that are not known yet. */
  async prepare(rows: readonly EventRow[]): Promise<void> {
    const missing: Record<NameTable, Set<number>> = {
      event_types: new Set(),
      event_categories: new Set(),
      event_actors: new Set(),
    };
    const types = this.#names.event_types;
    const categories = this.#names.event_categories;
    const actors = this.#names.event_actors;
    for (const row of rows) {
      if (row.position === null) continue;
      if (!types.has(row.type_id)) missing.event_types.add(row.type_id);
      if (!categories.has(row.category_id)) missing.event_categories.add(row.category_id);
      if (row.actor_ref !== null && !actors.has(row.actor_ref)) missing.event_actors.add(row.actor_ref);
    }
    for (const table of Object.keys(missing) as NameTable[]) await this.#load(table, missing[table]);
  }

  /** Loads the event type names of these ids that are not known yet. */
  async prepareTypes(ids: Iterable<number>): Promise<void> {
    const types = this.#names.event_types;
    const missing = new Set<number>();
    for (const id of ids) if (!types.has(id)) missing.add(id);
    await this.#load('event_types', missing);
  }

  async #load(table: NameTable, ids: Set<number>): Promise<void> {
    if (ids.size === 0) return;
    const { rows: found } = await this.#db.query<{ id: number; name: string }>(
      `SELECT id, name FROM ${this.#schema}.${table} WHERE id = ANY($1::smallint[])`,
      [[...ids]],
    );
    for (const { id, name } of found) this.#names[table].set(id, name);
  }

  /**
   * The id of a stream name's category (the name up to the first '-'), or null when the category
   * was never used — then the stream has no events. Ids are kept once found; an unknown name is
   * asked for again next time (it may have been registered since).
   */
  async categoryId(streamName: string): Promise<number | null> {
    const dash = streamName.indexOf('-');
    const category = dash < 0 ? streamName : streamName.slice(0, dash);
    const known = this.#categoryIds.get(category);
    if (known !== undefined) return known;
    const { rows } = await this.#db.query<{ id: number }>({
      name: `mm-es:${this.#schema}:category-id`,
      text: `SELECT id FROM ${this.#schema}.event_categories WHERE name = $1`,
      values: [category],
    });
    const id = rows[0]?.id ?? null;
    if (id !== null) {
      this.#categoryIds.set(category, id);
      this.#names.event_categories.set(id, category);
    }
    return id;
  }

  /** The name of this id when it is known (see {@link prepare}, {@link prepareTypes}). */
  known(table: NameTable, id: number): string | undefined {
    return this.#names[table].get(id);
  }

  name(table: NameTable, id: number): string {
    const name = this.#names[table].get(id);
    if (name === undefined) throw new Error(`${table} ${id} is missing`);
    return name;
  }
}

const ACTOR_TYPES: Record<string, Actor['type']> = { u: 'user', s: 'service', y: 'system' };

/** The metadata of a stored row: its columns, then the keys kept as JSON (which win). */
const metadataOf = (row: EventRow, names: EventNames): EventMetadata => {
  const actorType = row.actor_type === null ? undefined : ACTOR_TYPES[row.actor_type];
  return {
    tenantId: row.tenant_id,
    correlationId: (row.correlation_uuid ?? row.correlation_text) as string,
    causationId: row.causation_uuid ?? row.causation_text,
    ...(actorType
      ? { actor: { type: actorType, id: row.actor_id ?? names.name('event_actors', row.actor_ref as number) } }
      : {}),
    ...row.metadata_extra,
  } as EventMetadata;
};

/** The stream name of a row: its category, then `-` and the rest (migration 1700000000007). */
const streamNameOf = (row: EventRow, names: EventNames): string => {
  const category = names.name('event_categories', row.category_id);
  const rest = row.stream_key ?? row.stream_uuid;
  return rest === null ? category : `${category}-${rest}`;
};

/** Loads the dictionaries and names these rows need, so that {@link toEvent} can decode every one of them. */
export const prepareRows = async (codec: DataCodec, names: EventNames, rows: readonly EventRow[]): Promise<void> => {
  const ids: number[] = [];
  for (const row of rows)
    if (row.data_dictionary_id !== null && row.data_dictionary_id !== undefined) ids.push(row.data_dictionary_id);
  if (ids.length > 0) await codec.prepare(ids);
  await names.prepare(rows);
};

/** A stored row as an event (after {@link prepareRows}). */
export const toEvent = (row: EventRow, codec: DataCodec, names: EventNames): RecordedEvent => ({
  id: row.id,
  streamName: streamNameOf(row, names),
  revision: Number(row.revision),
  position: Number(row.position),
  type: names.name('event_types', row.type_id),
  schemaVersion: row.schema_version,
  data: codec.decode(row.data, row.data_deflated, row.data_dictionary_id),
  metadata: metadataOf(row, names),
  recordedAt: row.recorded_at,
});

/**
 * A row of `readLog`'s page query, as the driver hands it over unparsed (`rowMode: 'array'`,
 * {@link UNPARSED}): the page's horizon and head, then `LOG_COLUMNS` (and `recorded_ms` when
 * asked for) as PostgreSQL's text — the position and small ints as digits, `data` as JSON text,
 * `data_deflated` as `\x` and hex.
 */
export type LogRow = [
  horizon: string,
  head: string | null,
  position: string | null,
  typeId: string,
  schemaVersion: string,
  tenantId: string,
  data: string | null,
  dictionaryId: string | null,
  deflated: string | null,
  recordedMs?: string,
];

/** Type parsers that leave every value as the text PostgreSQL sent (the driver's own parsers are skipped). */
export const UNPARSED = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/** Loads the dictionaries and type names these rows need, so that {@link toLogEvent} can decode every one of them. */
export const prepareLogRows = async (codec: DataCodec, names: EventNames, rows: readonly LogRow[]): Promise<void> => {
  const dictionaries = new Set<number>();
  const types = new Set<number>();
  for (const row of rows) {
    if (row[2] === null) continue;
    types.add(Number(row[3]));
    if (row[7] !== null) dictionaries.add(Number(row[7]));
  }
  if (dictionaries.size > 0) await codec.prepare(dictionaries);
  await names.prepareTypes(types);
};

/** A {@link LogEvent} whose data is still its JSON text. */
export type LogText = Omit<LogEvent, 'data'> & { data: string };

/** A row of `readLog` / `readLogText` with its data decoded as the caller chose. */
const logRowWith = <Data>(row: LogRow, names: EventNames, data: Data): Omit<LogEvent, 'data'> & { data: Data } => {
  const event: Omit<LogEvent, 'data'> & { data: Data } = {
    position: Number(row[2]),
    type: names.name('event_types', Number(row[3])),
    schemaVersion: Number(row[4]),
    tenantId: row[5],
    data,
  };
  if (row[9] !== undefined) event.recordedAt = new Date(Number(row[9]));
  return event;
};

/** A row of `readLogText` (after {@link prepareLogRows}): the data as JSON text, not parsed. */
export const toLogText = (row: LogRow, codec: DataCodec, names: EventNames): LogText =>
  logRowWith(row, names, codec.decodeToText(row[6], row[8], row[7] === null ? null : Number(row[7])));

/** A row of `readLog` as a {@link LogEvent} (after {@link prepareLogRows}). */
export const toLogEvent = (row: LogRow, codec: DataCodec, names: EventNames): LogEvent =>
  logRowWith(row, names, codec.decodeText(row[6], row[8], row[7] === null ? null : Number(row[7])));

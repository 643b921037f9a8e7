import type { Actor, EventMetadata, Json, RecordedEvent } from '../types.js';
import type { DataCodec } from './data-codec.js';

/** A row of `events` as `eventColumns` selects it. */
export interface EventRow {
  position: string | null;
  stream_name: string;
  revision: string;
  id: string;
  type: string;
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
  actor_id: string;
  metadata_extra: Record<string, Json> | null;
  recorded_at: Date;
}

const ACTOR_TYPES: Record<string, Actor['type']> = { u: 'user', s: 'service', y: 'system' };

/** The metadata of a stored row: its columns, then the keys kept as JSON (which win). */
const metadataOf = (row: EventRow): EventMetadata => {
  const actorType = row.actor_type === null ? undefined : ACTOR_TYPES[row.actor_type];
  return {
    tenantId: row.tenant_id,
    correlationId: (row.correlation_uuid ?? row.correlation_text) as string,
    causationId: row.causation_uuid ?? row.causation_text,
    ...(actorType ? { actor: { type: actorType, id: row.actor_id } } : {}),
    ...row.metadata_extra,
  } as EventMetadata;
};

/** Loads the dictionaries these rows need, so that {@link toEvent} can decode every one of them. */
export const prepareRows = async (codec: DataCodec, rows: readonly EventRow[]): Promise<void> => {
  const ids: number[] = [];
  for (const row of rows)
    if (row.data_dictionary_id !== null && row.data_dictionary_id !== undefined) ids.push(row.data_dictionary_id);
  if (ids.length > 0) await codec.prepare(ids);
};

/** A stored row as an event (after {@link prepareRows} for compressed rows). */
export const toEvent = (row: EventRow, codec: DataCodec): RecordedEvent => ({
  id: row.id,
  streamName: row.stream_name,
  revision: Number(row.revision),
  position: Number(row.position),
  type: row.type,
  schemaVersion: row.schema_version,
  data: codec.decode(row.data, row.data_deflated, row.data_dictionary_id),
  metadata: metadataOf(row),
  recordedAt: row.recorded_at,
});

import { type JSONEventData, type JSONEventType, jsonEvent } from '@eventstore/db-client';
import { categoryOf } from '../expected-revision.js';
import type { AllFilter, EventData, EventMetadata, Json, RecordedEvent } from '../types.js';

/**
 * Keys the adapter adds to an event's metadata in EventStoreDB and removes again on read.
 * `schemaVersion` carries our envelope field; `$correlationId` / `$causationId` are the names
 * EventStoreDB's `$by_correlation_id` projection and its UI understand.
 */
const SCHEMA_VERSION = 'schemaVersion';
const ADDED_KEYS = [SCHEMA_VERSION, '$correlationId', '$causationId'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Our envelope → the JSON event the client sends (type, data JSON, metadata JSON). */
export const toEsdbEvent = (streamName: string, event: EventData): JSONEventData => {
  // EventStoreDB stores ids as UUIDs; anything else would be rejected by the server (or worse, parsed).
  if (!UUID.test(event.id)) throw new RangeError(`appendToStream(${streamName}): event id "${event.id}" is not a UUID`);
  for (const key of ADDED_KEYS) {
    if (key in event.metadata)
      throw new RangeError(`appendToStream(${streamName}): metadata key "${key}" is reserved by the esdb adapter`);
  }
  return jsonEvent<JSONEventType>({
    id: event.id,
    type: event.type,
    data: event.data as JSONEventType['data'],
    metadata: {
      ...(event.metadata as Record<string, Json>),
      [SCHEMA_VERSION]: event.schemaVersion ?? 1,
      $correlationId: event.metadata.correlationId,
      ...(event.metadata.causationId === null ? {} : { $causationId: event.metadata.causationId }),
    },
  });
};

/**
 * Our global position is the commit position. EventStoreDB writes every event of an append as
 * its own log record with commit position = prepare position (implicit transactions), so it
 * is unique per event. It is a byte offset into the transaction log: exact as a JS number while
 * the log is below 2^53 bytes (8 PiB); beyond that this throws rather than reorder silently.
 */
export const toPosition = (commit: bigint | undefined, what: string): number => {
  if (commit === undefined) throw new Error(`esdb: ${what} has no commit position`);
  const position = Number(commit);
  if (!Number.isSafeInteger(position)) throw new RangeError(`esdb: commit position ${commit} of ${what} exceeds 2^53`);
  return position;
};

/** `{ commit, prepare }` for a position this adapter handed out (commit = prepare, see {@link toPosition}). */
export const fromPosition = (position: number) => ({ commit: BigInt(position), prepare: BigInt(position) });

/** System events (`$`-prefixed type or stream, e.g. `$>` links in `$ce-…`, `$metadata`) are never ours. */
export const isSystemEvent = (event: { streamId: string; type: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');

export const matchesFilter = (
  event: { streamId: string; type: string; metadata?: unknown },
  filter: AllFilter | undefined,
): boolean =>
  !isSystemEvent(event) &&
  (!filter?.categories || filter.categories.includes(categoryOf(event.streamId))) &&
  (!filter?.eventTypes || filter.eventTypes.includes(event.type)) &&
  (filter?.tenantId === undefined ||
    (typeof event.metadata === 'object' &&
      event.metadata !== null &&
      (event.metadata as { tenantId?: unknown }).tenantId === filter.tenantId));

/** The fields of a recorded EventStoreDB event (stream or `$all` read) this adapter uses. */
export interface EsdbRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  position?: { commit: bigint; prepare: bigint };
}

/** A recorded EventStoreDB event → our envelope; undefined for events the port never exposes. */
export const fromEsdbEvent = (event: EsdbRecord | undefined): RecordedEvent | undefined => {
  if (!event || isSystemEvent(event)) return undefined;
  const stored = (event.isJson ? event.metadata : undefined) as Record<string, Json> | undefined;
  const { [SCHEMA_VERSION]: schemaVersion, $correlationId: _c, $causationId: _k, ...metadata } = stored ?? {};
  return {
    id: event.id,
    streamName: event.streamId,
    revision: Number(event.revision),
    position: toPosition(event.position?.commit, `event ${event.id}`),
    type: event.type,
    schemaVersion: typeof schemaVersion === 'number' ? schemaVersion : 1,
    data: (event.isJson ? event.data : null) as Json,
    metadata: metadata as unknown as EventMetadata,
    recordedAt: event.created,
  };
};

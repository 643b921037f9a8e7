import type { EventMetadata, Json, RecordedEvent } from '../types.js';

/**
 * One line of an archive file: one event, as JSON, with the store's envelope under readable
 * names (compression makes the repeated keys nearly free). The same line is written for every
 * adapter, so a PostgreSQL archive and an EventStoreDB export read the same way.
 */
export interface ArchiveLine {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  data: Json;
  metadata: EventMetadata;
  recorded_at: string;
}

export const toArchiveLine = (event: RecordedEvent): string =>
  JSON.stringify({
    position: event.position,
    id: event.id,
    stream: event.streamName,
    revision: event.revision,
    type: event.type,
    schema_version: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    recorded_at: event.recordedAt.toISOString(),
  } satisfies ArchiveLine);

export const fromArchiveLine = (line: string): RecordedEvent => {
  const row = JSON.parse(line) as ArchiveLine;
  return {
    id: row.id,
    streamName: row.stream,
    revision: row.revision,
    position: row.position,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: new Date(row.recorded_at),
  };
};

import type { LogEvent, RecordedEvent } from './types.js';

/** A recorded event cut down to what a replay reads ({@link LogEvent}); `recordedAt` kept when asked for. */
export const logEventOf = (event: RecordedEvent, recordedAt: boolean): LogEvent => {
  const out: LogEvent = {
    position: event.position,
    type: event.type,
    schemaVersion: event.schemaVersion,
    tenantId: event.metadata.tenantId,
    data: event.data,
  };
  if (recordedAt) out.recordedAt = event.recordedAt;
  return out;
};

import type { AllFilter, EventStore, RecordedEvent } from '@mm/event-store';
import type { Source, SourceEvent } from '../source.js';

export interface EventStoreSourceOptions {
  /** Categories and/or tenant to follow (event types come from the kit's handlers). */
  filter?: Omit<AllFilter, 'eventTypes'>;
  /** Events read per page while catching up. @defaultValue 500 */
  batchSize?: number;
}

export const fromRecorded = (event: RecordedEvent): SourceEvent => ({
  position: event.position,
  id: event.id,
  type: event.type,
  schemaVersion: event.schemaVersion,
  stream: event.streamName,
  data: event.data,
  metadata: event.metadata as Record<string, unknown>,
  recordedAt: event.recordedAt,
});

/**
 * An event store as a source (`subscribeToAll`: catch-up, then live; the PostgreSQL adapter
 * never skips an event committed late, EventStoreDB's is a server-side catch-up subscription).
 * For our own processes, or a consumer allowed to reach the store.
 */
export function eventStoreSource(store: EventStore, options: EventStoreSourceOptions = {}): Source {
  const filterOf = (types: readonly string[] | undefined): AllFilter => ({
    ...options.filter,
    ...(types && types.length > 0 ? { eventTypes: [...types] } : {}),
  });
  return {
    kind: 'event-store',

    async run(after, filter, deliver, signal) {
      if (signal.aborted) return;
      let failure: unknown;
      const subscription = store.subscribeToAll({
        after,
        filter: filterOf(filter.types),
        batchSize: options.batchSize ?? 500,
        handler: (event) => deliver(fromRecorded(event)),
        onError: (error) => {
          failure = error;
        },
      });
      const close = () => void subscription.close();
      signal.addEventListener('abort', close, { once: true });
      await subscription.done;
      signal.removeEventListener('abort', close);
      if (failure !== undefined && !signal.aborted) throw failure;
    },

    async peek(after, filter, max) {
      return (await store.readAll({ after, maxCount: max, filter: filterOf(filter.types) })).map(fromRecorded);
    },
  };
}

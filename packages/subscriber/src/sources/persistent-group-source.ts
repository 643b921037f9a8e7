import type { AllFilter } from '@mm/event-store';
import type { EsdbEventStore } from '@mm/event-store/esdb';
import type { CompetingSource } from '../source.js';
import { fromRecorded } from './event-store-source.js';

export interface PersistentGroupSourceOptions {
  /** An EventStoreDB store (`createEsdbEventStore`). */
  store: Pick<EsdbEventStore, 'subscribeToPersistentGroup'>;
  /** The consumer group on `$all`, created if missing (from the start of the log). */
  group: string;
  /** Categories and/or tenant (event types come from the kit's handlers). */
  filter?: Omit<AllFilter, 'eventTypes'>;
  /** Events the server hands this consumer before it acks. @defaultValue 10 */
  bufferSize?: number;
  /**
   * Retries after which the *server* parks an event, for a new group. Keep it above the kit's
   * `retry.attempts`: the kit parks in its own dead-letter table first. @defaultValue 100
   */
  maxRetryCount?: number;
}

/**
 * EventStoreDB persistent subscription (consumer group) as a source: competing consumers —
 * every instance started with the same `group` gets a share of the events, each event going to
 * one of them (and again to another if it is not acked). The kit acks after its transaction
 * commits and nacks (`retry`) when it does not; effects stay exactly once through its
 * per-event dedup table (README "Persistent subscriptions").
 */
export function persistentGroupSource(options: PersistentGroupSourceOptions): CompetingSource {
  return {
    kind: 'esdb-persistent',
    competing: true,
    async consume(filter, deliver, signal, onError) {
      if (signal.aborted) return;
      const subscription = options.store.subscribeToPersistentGroup({
        group: options.group,
        filter: {
          ...options.filter,
          ...(filter.types && filter.types.length > 0 ? { eventTypes: [...filter.types] } : {}),
        },
        bufferSize: options.bufferSize ?? 10,
        maxRetryCount: options.maxRetryCount ?? 100,
        handler: async (event, { retryCount }) => {
          await deliver(fromRecorded(event), { retryCount });
          return undefined;
        },
        onError,
      });
      const close = () => void subscription.close();
      signal.addEventListener('abort', close, { once: true });
      await subscription.done;
      signal.removeEventListener('abort', close);
    },
  };
}

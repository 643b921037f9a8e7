import { type EventStore, isWrongExpectedRevision } from '@mm/event-store';
import { Counter, Histogram, type Registry } from 'prom-client';
import { metricOnce, secondsSince } from './registry.js';

export const EVENT_STORE_APPEND_SECONDS = 'matchmaking_event_store_append_duration_seconds';
export const EVENT_STORE_EVENTS_APPENDED = 'matchmaking_event_store_events_appended_total';

/** How an append ended: written (or an idempotent replay), a revision conflict (someone wrote first), or failed. */
export type AppendOutcome = 'ok' | 'conflict' | 'error';

/**
 * The store with every append timed: `matchmaking_event_store_append_duration_seconds{operation,
 * outcome}` (`append` = one stream, `append_multi` = several streams in one transaction) and the
 * events written. Works for every adapter (it wraps the port); reads and subscriptions pass
 * through untouched.
 */
export function instrumentEventStore(store: EventStore, registry: Registry): EventStore {
  const seconds = metricOnce(
    registry,
    EVENT_STORE_APPEND_SECONDS,
    () =>
      new Histogram({
        name: EVENT_STORE_APPEND_SECONDS,
        help: 'Event store append latency by operation (append | append_multi) and outcome (ok | conflict | error)',
        labelNames: ['operation', 'outcome'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
  );
  const appended = metricOnce(
    registry,
    EVENT_STORE_EVENTS_APPENDED,
    () =>
      new Counter({
        name: EVENT_STORE_EVENTS_APPENDED,
        help: 'Events appended to the event store by this process',
        registers: [registry],
      }),
  );
  for (const operation of ['append', 'append_multi'])
    for (const outcome of ['ok', 'conflict', 'error']) seconds.zero({ operation, outcome });

  const timed = async <T>(operation: 'append' | 'append_multi', events: number, run: () => Promise<T>): Promise<T> => {
    const start = process.hrtime.bigint();
    try {
      const result = await run();
      seconds.observe({ operation, outcome: 'ok' }, secondsSince(start));
      appended.inc(events);
      return result;
    } catch (error) {
      const outcome: AppendOutcome = isWrongExpectedRevision(error) ? 'conflict' : 'error';
      seconds.observe({ operation, outcome }, secondsSince(start));
      throw error;
    }
  };

  const instrumented: EventStore = {
    appendToStream: (streamName, events, options) =>
      timed('append', events.length, () => store.appendToStream(streamName, events, options)),
    readStream: (streamName, options) => store.readStream(streamName, options),
    streamRevision: (streamName) => store.streamRevision(streamName),
    readAll: (options) => store.readAll(options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    ping: () => store.ping(),
    close: () => store.close(),
  };
  const appendToStreams = store.appendToStreams?.bind(store);
  // The optional capability stays optional: callers test for it to choose their commit protocol.
  if (appendToStreams)
    instrumented.appendToStreams = (appends) =>
      timed(
        'append_multi',
        appends.reduce((n, a) => n + a.events.length, 0),
        () => appendToStreams(appends),
      );
  return instrumented;
}

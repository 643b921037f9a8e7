import {
  END,
  type EventStoreDBClient,
  PersistentSubscriptionExistsError,
  type PersistentSubscriptionToAll,
  persistentSubscriptionToAllSettingsFromDefaults,
  START,
} from '@eventstore/db-client';
import type { AllFilter, RecordedEvent } from '../types.js';
import { type EsdbRecord, fromEsdbEvent, matchesFilter } from './envelope.js';
import type { EsdbReconnectOptions } from './esdb-subscription.js';
import { serverFilter } from './esdb-subscription.js';

/** What the handler of a persistent subscription gets besides the event. */
export interface PersistentDelivery {
  /** How many times the server delivered this event to the group before (0 the first time). */
  retryCount: number;
}

/**
 * The handler's verdict: resolving with nothing acks the event; `{ nack }` nacks it
 * (`retry`: deliver it again, to any consumer of the group; `park`: to the group's parked
 * messages; `skip`: drop it). A handler that throws nacks with `retry`.
 */
export type PersistentOutcome = undefined | { nack: 'retry' | 'park' | 'skip'; reason: string };

export interface PersistentGroupOptions {
  /** The consumer group on `$all` (created if missing). */
  group: string;
  /** Categories / event types / tenant: categories or types go to the server filter of a new group. */
  filter?: AllFilter;
  handler: (
    event: RecordedEvent,
    delivery: PersistentDelivery,
    // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing acks its event
  ) => Promise<PersistentOutcome | void> | PersistentOutcome | void;
  /** Where a new group starts. @defaultValue 'start' */
  startFrom?: 'start' | 'end';
  /** Retries after which the server parks an event (for a new group). @defaultValue 10 */
  maxRetryCount?: number;
  /** Events the server sends this consumer before it acks. @defaultValue 10 */
  bufferSize?: number;
  /** A handler failure (nacked for a retry) or a dropped connection (resubscribed). */
  onError?: (error: unknown) => void;
}

export interface PersistentGroupSubscription {
  /** Resolves when the subscription has stopped (after close(), or an error resubscribing cannot fix). */
  readonly done: Promise<void>;
  /**
   * Stops: the in-flight handler finishes and its event is acked or nacked, then the call ends;
   * events sent to this consumer and not handled yet go back to the group (to other consumers).
   */
  close(): Promise<void>;
}

/** Errors after which resubscribing cannot help. */
const PERMANENT = new Set(['access-denied', 'invalid-argument', 'unsupported']);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** Creates the consumer group on `$all` unless it exists (a group's settings are not updated). */
export async function ensurePersistentGroup(
  client: EventStoreDBClient,
  options: PersistentGroupOptions,
): Promise<void> {
  try {
    await client.createPersistentSubscriptionToAll(
      options.group,
      persistentSubscriptionToAllSettingsFromDefaults({
        startFrom: options.startFrom === 'end' ? END : START,
        maxRetryCount: options.maxRetryCount ?? 10,
      }),
      { filter: serverFilter(options.filter) },
    );
  } catch (error) {
    if (!(error instanceof PersistentSubscriptionExistsError)) throw error;
  }
}

/**
 * One consumer of a persistent subscription group on `$all` (competing consumers: the server
 * delivers each event to one of the group's consumers). The handler runs for one event at a
 * time; its event is acked after it resolves, nacked as it says or with `retry` when it throws.
 * Events the port never exposes (system events) and events outside `filter` are acked unseen.
 * A dropped call is resubscribed with backoff (the server redelivers what was not acked).
 */
export function startPersistentGroupSubscription(
  client: EventStoreDBClient,
  options: PersistentGroupOptions,
  reconnect: EsdbReconnectOptions,
  onStopped: (subscription: PersistentGroupSubscription) => void,
): PersistentGroupSubscription {
  const abort = new AbortController();
  const initialDelay = reconnect.initialDelayMs ?? 100;
  const maxDelay = reconnect.maxDelayMs ?? 5000;
  let current: PersistentSubscriptionToAll | undefined;
  let busy = false;

  const follow = async (): Promise<number> => {
    await ensurePersistentGroup(client, options);
    const subscription = client.subscribeToPersistentSubscriptionToAll(options.group, {
      bufferSize: options.bufferSize ?? 10,
    });
    current = subscription;
    let handled = 0;
    try {
      for await (const resolved of subscription as AsyncIterable<{ event?: EsdbRecord; retryCount: number }>) {
        if (abort.signal.aborted) return handled;
        busy = true;
        const raw = resolved.event;
        const event = raw && matchesFilter(raw, options.filter) ? fromEsdbEvent(raw) : undefined;
        let outcome: PersistentOutcome;
        if (event) {
          try {
            outcome = (await options.handler(event, { retryCount: resolved.retryCount })) ?? undefined;
          } catch (error) {
            options.onError?.(error);
            outcome = { nack: 'retry', reason: describe(error) };
          }
        }
        const message = resolved as Parameters<PersistentSubscriptionToAll['ack']>[0];
        if (outcome) await subscription.nack(outcome.nack, outcome.reason, message);
        else await subscription.ack(message);
        busy = false;
        handled++;
        if (abort.signal.aborted) return handled;
      }
      return handled;
    } finally {
      busy = false;
      current = undefined;
      await subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    }
  };

  const run = async () => {
    let delay = initialDelay;
    while (!abort.signal.aborted) {
      try {
        if ((await follow()) > 0) delay = initialDelay;
      } catch (error) {
        if (abort.signal.aborted) return;
        const type = (error as { type?: string })?.type;
        if (type && PERMANENT.has(type)) throw error;
        options.onError?.(error);
      }
      if (abort.signal.aborted) return;
      await sleep(delay, abort.signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  };

  const done = run().catch((error: unknown) => {
    options.onError?.(error);
  });
  const subscription: PersistentGroupSubscription = {
    done,
    async close() {
      abort.abort();
      // Idle (waiting for the next event): end the call now. Busy: the loop ends it after the ack.
      const stream = current;
      if (stream && !busy) {
        void stream.unsubscribe().catch(() => undefined);
        queueMicrotask(() => stream.destroy());
      }
      await done;
    },
  };
  void done.then(() => onStopped(subscription));
  return subscription;
}

import {
  type AllStreamSubscription,
  type EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  START,
  streamNameFilter,
} from '@eventstore/db-client';
import { createCaughtUpSignal, settleRun } from '../subscription/subscription-lifecycle.js';
import type { AllFilter, SubscribeOptions, Subscription } from '../types.js';
import { type EsdbRecord, fromEsdbEvent, fromPosition, matchesFilter } from './envelope.js';

/** How a dropped subscription reconnects. */
export interface EsdbReconnectOptions {
  /** @defaultValue 100 */
  initialDelayMs?: number;
  /** @defaultValue 5000 */
  maxDelayMs?: number;
}

/** Errors after which resubscribing cannot help (the request itself is wrong or forbidden). */
const PERMANENT = new Set(['access-denied', 'invalid-argument', 'unsupported', 'not-found']);

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The server-side filter: EventStoreDB filters on stream names *or* event types, not both, so
 * categories go to the server (a stream-name regex: `category` or `category-…`) and event types
 * only when no category is given; the rest (and system events, always) is filtered here.
 */
export const serverFilter = (filter: AllFilter | undefined) => {
  if (filter?.categories && filter.categories.length > 0)
    return streamNameFilter({ regex: `^(?:${filter.categories.map(escapeRegex).join('|')})(?:-|$)` });
  if (filter?.eventTypes && filter.eventTypes.length > 0)
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
  return excludeSystemEvents();
};

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

class HandlerError {
  constructor(readonly error: unknown) {}
}

/**
 * Catch-up subscription to `$all` over the client's gRPC subscription, with our semantics:
 * sequential awaited handler, `caughtUp` once the history at subscribe time is handled, and
 * resubscription from the last handled position whenever the server or the connection drops
 * the call (events at or before that position are skipped, so nothing is delivered twice by
 * a reconnect).
 */
export function startEsdbSubscription(
  client: EventStoreDBClient,
  head: () => Promise<number>,
  options: SubscribeOptions,
  reconnect: EsdbReconnectOptions,
  onStopped: (subscription: Subscription) => void,
): Subscription {
  const abort = new AbortController();
  let lastPosition = options.after ?? -1;
  const caughtUpSignal = createCaughtUpSignal();
  let current: AllStreamSubscription | undefined;
  const initialDelay = reconnect.initialDelayMs ?? 100;
  const maxDelay = reconnect.maxDelayMs ?? 5000;

  /** One server subscription, from `lastPosition`, until it fails or the subscription is closed. */
  const follow = async (target: number): Promise<void> => {
    const subscription = client.subscribeToAll({
      fromPosition: lastPosition < 0 ? START : fromPosition(lastPosition),
      filter: serverFilter(options.filter),
    });
    current = subscription;
    // The client emits `caughtUp` while parsing; events parsed before it may still sit in the
    // readable buffer. Caught up = once everything received so far has been handled.
    let received = 0;
    let handled = 0;
    let caughtUpAt: number | undefined;
    const markCaughtUp = () => {
      if (caughtUpSignal.isCaughtUp) return;
      caughtUpAt = received + subscription.readableLength;
      if (handled >= caughtUpAt) caughtUpSignal.resolve();
    };
    subscription.on('caughtUp', markCaughtUp);
    if (lastPosition >= target) caughtUpSignal.resolve();
    try {
      for await (const resolved of subscription as AsyncIterable<{ event?: EsdbRecord }>) {
        received++;
        if (abort.signal.aborted) return;
        const raw = resolved.event;
        const event = raw && matchesFilter(raw, options.filter) ? fromEsdbEvent(raw) : undefined;
        if (event && event.position > lastPosition) {
          try {
            const result = options.handler(event);
            if (result && typeof (result as Promise<void>).then === 'function') await result;
          } catch (error) {
            throw new HandlerError(error);
          }
          lastPosition = event.position;
        }
        handled++;
        if (
          !caughtUpSignal.isCaughtUp &&
          (lastPosition >= target || (caughtUpAt !== undefined && handled >= caughtUpAt))
        )
          caughtUpSignal.resolve();
      }
    } finally {
      subscription.off('caughtUp', markCaughtUp);
      current = undefined;
      await subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    }
  };

  const run = async () => {
    let delay = initialDelay;
    let target: number | undefined;
    while (!abort.signal.aborted) {
      try {
        // The log's head at subscribe time: the fallback "caught up" point for servers that
        // do not send caught-up messages (before 23.10).
        target ??= await head();
        const before = lastPosition;
        await follow(target);
        if (lastPosition > before) delay = initialDelay;
        // The server ended the call without an error (e.g. shutting down): resubscribe.
      } catch (error) {
        if (error instanceof HandlerError) throw error.error;
        if (abort.signal.aborted) return;
        const type = (error as { type?: string })?.type;
        if (type && PERMANENT.has(type)) throw error;
      }
      if (abort.signal.aborted) return;
      await sleep(delay, abort.signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  };

  const done = settleRun(run(), abort, caughtUpSignal, options.onError);

  const subscription: Subscription = {
    caughtUp: caughtUpSignal.caughtUp,
    get lastPosition() {
      return lastPosition;
    },
    done,
    async close() {
      abort.abort();
      // Ends the for-await loop once the in-flight handler (if any) has returned.
      const stream = current;
      if (stream) {
        void stream.unsubscribe().catch(() => undefined);
        queueMicrotask(() => stream.destroy());
      }
      await done;
    },
  };
  void done.then(() => onStopped(subscription));
  return subscription;
}

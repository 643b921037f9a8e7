import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { backoff, type Source, type SourceEvent, type SourceFilter, sleep } from '../source.js';

export interface HttpFeedSourceOptions {
  /** Base URL of the matchmaking API, e.g. `http://127.0.0.1:8003`. */
  url: string;
  /** A service token (role `service`, or a platform role), or a function returning a fresh one. */
  token: string | (() => string | Promise<string>);
  /** Stream categories to follow (`player`, `match`, `challenge`). @defaultValue all */
  categories?: readonly string[];
  /** First reconnection delay after a dropped stream or a 5xx; doubles up to `maxReconnectDelayMs`. @defaultValue 200 */
  reconnectDelayMs?: number;
  /** @defaultValue 5000 */
  maxReconnectDelayMs?: number;
  /** Called on each reconnection (logging). */
  onReconnect?: (error: unknown, delayMs: number) => void;
}

/** A response the feed refuses for good (bad token, bad filter): retrying will not help. */
export class FeedRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the event feed refused the subscription: HTTP ${status} ${body.slice(0, 500)}`);
    this.name = 'FeedRefusedError';
  }
}

interface WireEvent {
  position: number;
  id: string;
  type: string;
  schema_version: number;
  stream: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: string;
}

const fromWire = (event: WireEvent): SourceEvent => ({
  position: event.position,
  id: event.id,
  type: event.type,
  schemaVersion: event.schema_version,
  stream: event.stream,
  data: event.data,
  metadata: event.metadata,
  recordedAt: new Date(event.recorded_at),
});

/**
 * The matchmaking API's event feed as a source: `GET /v1/events/stream` (Server-Sent Events,
 * parsed by eventsource-parser) from the checkpoint, reconnecting with `Last-Event-ID` = the
 * last event *handled* (not merely received) after a drop, a 5xx or the server closing the
 * stream. The body is read only as fast as events are handled, so TCP flow control holds the
 * API back while a handler is slow. `peek` reads a page of `GET /v1/events`.
 */
export function httpFeedSource(options: HttpFeedSourceOptions): Source {
  const base = options.url.replace(/\/+$/, '');
  const initialDelay = options.reconnectDelayMs ?? 200;
  const maxDelay = options.maxReconnectDelayMs ?? 5000;
  const token = async () => (typeof options.token === 'function' ? await options.token() : options.token);
  const query = (filter: SourceFilter, extra: Record<string, string>) => {
    const params = new URLSearchParams(extra);
    if (filter.types && filter.types.length > 0) params.set('types', filter.types.join(','));
    if (options.categories && options.categories.length > 0) params.set('categories', options.categories.join(','));
    const text = params.toString();
    return text ? `?${text}` : '';
  };
  const refusedOrRetry = async (response: Response) => {
    const body = await response.text().catch(() => '');
    // 4xx (but 408/429) will not change by retrying: stop and say why.
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
      throw new FeedRefusedError(response.status, body);
    return new Error(`event feed answered HTTP ${response.status}`);
  };

  return {
    kind: 'http-feed',

    async run(after, filter, deliver, signal) {
      let cursor = after;
      let failures = 0;
      while (!signal.aborted) {
        let problem: unknown;
        try {
          const headers: Record<string, string> = {
            authorization: `Bearer ${await token()}`,
            accept: 'text/event-stream',
          };
          if (cursor >= 0) headers['last-event-id'] = String(cursor);
          const response = await fetch(`${base}/v1/events/stream${query(filter, {})}`, { headers, signal });
          if (response.status !== 200 || !response.body) {
            problem = await refusedOrRetry(response);
          } else {
            const queue: EventSourceMessage[] = [];
            const parser = createParser({ onEvent: (message) => queue.push(message) });
            const decoder = new TextDecoder();
            for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
              parser.feed(decoder.decode(chunk, { stream: true }));
              while (queue.length > 0) {
                const event = fromWire(JSON.parse(queue.shift()!.data) as WireEvent);
                if (event.position <= cursor) continue; // never hand over anything twice in one run
                await deliver(event);
                cursor = event.position;
                failures = 0;
              }
              if (signal.aborted) return;
            }
            problem = new Error('the event feed closed the stream');
          }
        } catch (error) {
          if (error instanceof FeedRefusedError) throw error;
          problem = error;
        }
        if (signal.aborted) return;
        const delay = backoff(++failures, initialDelay, maxDelay);
        options.onReconnect?.(problem, delay);
        await sleep(delay, signal);
      }
    },

    async peek(after, filter, max) {
      const response = await fetch(
        `${base}/v1/events${query(filter, { ...(after >= 0 ? { after: String(after) } : {}), limit: String(Math.min(max, 1000)) })}`,
        { headers: { authorization: `Bearer ${await token()}` } },
      );
      if (response.status !== 200) throw await refusedOrRetry(response);
      const page = (await response.json()) as { events: WireEvent[] };
      return page.events.map(fromWire);
    },
  };
}

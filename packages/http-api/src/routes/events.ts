import { metricOnce } from '@mm/metrics';
import { type RequestHandler, type Response, Router } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventFeed, FeedEvent } from '../application/event-feed.js';
import { unavailableOrThrow } from '../errors/command-outcome.js';
import { principalOf } from '../middleware/auth.js';
import { parseCursor, parseFeedFilter, parseLimit } from './events-query.js';

export interface EventRoutesOptions {
  /** A comment line goes out when a stream has been quiet this long (0 = never). */
  heartbeatMs: number;
  /** Where the feed's metrics go (the app's registry). */
  registry?: Registry;
}

/**
 * Frames are gathered and written together (one write per burst instead of one per event);
 * a write of this many bytes is not delayed.
 */
const FLUSH_BYTES = 64 * 1024;

/** The client's reconnection delay, sent once at the start of a stream (EventSource's `retry:`). */
const RETRY_MS = 1000;

/**
 * `GET /v1/events` (pages) and `GET /v1/events/stream` (Server-Sent Events, `id:` = position,
 * resumable with `Last-Event-ID`). Service tokens only, scoped to the token's tenant.
 */
export function eventRoutes(feed: EventFeed, authenticated: RequestHandler, options: EventRoutesOptions): Router {
  const router = Router();
  const registers = options.registry ? [options.registry] : [];
  // Once per registry: a second app on the same registry (tests, two listeners) shares them.
  const once = <M extends Gauge | Counter>(name: string, make: () => M): M =>
    options.registry ? metricOnce(options.registry, name, make) : make();
  const openStreams = once(
    'matchmaking_event_feed_streams',
    () => new Gauge({ name: 'matchmaking_event_feed_streams', help: 'Open /v1/events/stream connections', registers }),
  );
  const sent = once(
    'matchmaking_event_feed_events_sent_total',
    () =>
      new Counter({
        name: 'matchmaking_event_feed_events_sent_total',
        help: 'Events handed to /v1/events/stream connections (written to the socket or its buffer)',
        registers,
      }),
  );

  router.get('/events', authenticated, async (req, res) => {
    const scope = feed.scopeOf(principalOf(res));
    const query = { after: parseCursor(req.query.after, 'after'), ...parseFeedFilter(req.query) };
    const limit = parseLimit(req.query.limit);
    res.json(await feed.page(scope, query, limit).catch(unavailableOrThrow));
  });

  router.get('/events/stream', authenticated, (req, res) => {
    const scope = feed.scopeOf(principalOf(res));
    // A reconnecting EventSource sends the last id it received; it wins over the URL's `after`.
    const lastEventId = req.header('last-event-id');
    const after =
      lastEventId !== undefined && lastEventId !== ''
        ? parseCursor(lastEventId, 'Last-Event-ID')
        : parseCursor(req.query.after, 'after');
    const filter = parseFeedFilter(req.query);

    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.write(`retry: ${RETRY_MS}\n\n`);
    openStreams.inc();

    const writer = sseWriter(res, (count) => sent.inc(count));
    // Checked twice per period, so a quiet stream hears from us at most 1.5 periods apart.
    const heartbeat =
      options.heartbeatMs > 0
        ? setInterval(() => writer.heartbeat(options.heartbeatMs), Math.max(50, options.heartbeatMs / 2))
        : undefined;
    const following = feed.follow(scope, { after, ...filter }, writer, (error) => {
      if (error) req.log?.warn({ err: error }, 'event stream stopped: the client reconnects from its last id');
      writer.end();
    });
    res.on('close', () => {
      writer.closed();
      clearInterval(heartbeat);
      openStreams.dec();
      void following.close();
    });
  });

  return router;
}

/** A position-stamped SSE frame; `data:` is one line of JSON (JSON.stringify never emits a newline). */
const frame = (event: FeedEvent): string => `id: ${event.position}\ndata: ${JSON.stringify(event)}\n\n`;

/**
 * Writes frames to a response with backpressure: frames gather in a small buffer written on the
 * next turn of the event loop or at FLUSH_BYTES; once the socket's buffer is full
 * (`res.write()` returned false) `write` returns a promise that resolves on 'drain', and the
 * subscription reads nothing more until then. What the API holds per slow consumer is bounded
 * by the response's high-water mark plus FLUSH_BYTES plus the store pages the subscription
 * holds (the one being written and the next, read ahead while catching up).
 */
function sseWriter(res: Response, onSent: (count: number) => void) {
  let pending = '';
  let pendingCount = 0;
  let scheduled = false;
  let isClosed = false;
  let lastWriteAt = Date.now();

  const flush = () => {
    if (pending === '' || isClosed) return;
    const chunk = pending;
    const count = pendingCount;
    pending = '';
    pendingCount = 0;
    lastWriteAt = Date.now();
    res.write(chunk);
    onSent(count);
  };
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  // Frames left behind while the socket was full go out as soon as it drains.
  res.on('drain', flush);

  const flushWhenWritable = async (): Promise<void> => {
    while (res.writableNeedDrain && !isClosed) await drained();
    flush();
  };

  return {
    write(event: FeedEvent): void | Promise<void> {
      if (isClosed) return;
      pending += frame(event);
      pendingCount++;
      if (pending.length >= FLUSH_BYTES || res.writableNeedDrain) return flushWhenWritable();
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          if (!res.writableNeedDrain) flush();
        });
      }
    },
    /** A comment line when nothing was written for `idleMs` (and the socket is not backed up). */
    heartbeat(idleMs: number) {
      if (isClosed || res.writableNeedDrain || Date.now() - lastWriteAt < idleMs - 5) return;
      lastWriteAt = Date.now();
      res.write(': heartbeat\n\n');
    },
    closed() {
      isClosed = true;
    },
    /** Sends what is gathered, then ends the response (the client reconnects with its last id). */
    end() {
      flush();
      isClosed = true;
      res.end();
    },
  };
}

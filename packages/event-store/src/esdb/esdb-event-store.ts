import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.js';
import { assertAppendable } from '../expected-revision.js';
import type {
  AppendResult,
  CurrentRevision,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  Subscription,
} from '../types.js';
import { type EsdbRecord, fromEsdbEvent, fromPosition, matchesFilter, toEsdbEvent, toPosition } from './envelope.js';
import {
  type PersistentGroupOptions,
  type PersistentGroupSubscription,
  startPersistentGroupSubscription,
} from './esdb-persistent.js';
import { type EsdbReconnectOptions, startEsdbSubscription } from './esdb-subscription.js';

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false`, `esdb+discover://…` — EventStoreDB's connection string. */
  connectionString: string;
  /** Deadline of `ping()`. @defaultValue 5000 */
  pingTimeoutMs?: number;
  /** Backoff of subscriptions resubscribing after the connection or the server dropped them. */
  reconnect?: EsdbReconnectOptions;
  /** Events fetched per `$all` page by `readAll` (it filters on the client). @defaultValue 1000 */
  readAllPageSize?: number;
}

const toExpected = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
};

const toCurrent = (actual: bigint | string | undefined): CurrentRevision =>
  typeof actual === 'bigint' && actual >= 0n ? Number(actual) : 'no_stream';

type Readable<T> = AsyncIterable<T>;

/** The EventStoreDB store: the port, plus EventStoreDB's persistent subscriptions (consumer groups). */
export interface EsdbEventStore extends EventStore {
  /**
   * Joins the consumer group `group` on `$all` (creating it if missing) as one of its competing
   * consumers: each event goes to one consumer of the group, acked after the handler resolves.
   */
  subscribeToPersistentGroup(options: PersistentGroupOptions): PersistentGroupSubscription;
}

/**
 * The EventStoreDB adapter (`@eventstore/db-client` 6.x, gRPC). Semantics are the port's
 * (`src/testing/contract.ts`) except where EventStoreDB itself differs — see README.md
 * "EventStoreDB adapter": event ids are idempotency keys per stream, not globally unique.
 */
export function createEsdbEventStore(options: EsdbEventStoreOptions | string): EsdbEventStore {
  const settings = typeof options === 'string' ? { connectionString: options } : options;
  const client = EventStoreDBClient.connectionString(settings.connectionString);
  const subscriptions = new Set<Subscription | PersistentGroupSubscription>();
  const pageSize = settings.readAllPageSize ?? 1000;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new Error('event store is closed');
  };

  const collect = async (read: Readable<{ event?: EsdbRecord }>): Promise<RecordedEvent[]> => {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        const event = fromEsdbEvent(resolved.event);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  };

  const readStream = (streamName: string, readOptions: ReadStreamOptions = {}) => {
    const backwards = readOptions.direction === 'backwards';
    return collect(
      client.readStream(streamName, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision:
          readOptions.fromRevision === undefined ? (backwards ? END : START) : BigInt(readOptions.fromRevision),
        ...(readOptions.maxCount === undefined ? {} : { maxCount: readOptions.maxCount }),
      }) as Readable<{ event?: EsdbRecord }>,
    );
  };

  /** Position of the newest record in `$all` (system records included), -1 when empty. */
  const head = async (deadline?: number): Promise<number> => {
    let position = -1;
    // Always read a call to its end: a call left with unread messages never finishes, and
    // the client's dispose() waits for every call it started.
    for await (const resolved of client.readAll({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: 1,
      ...(deadline === undefined ? {} : { deadline }),
    })) {
      position = toPosition(resolved.event?.position.commit ?? resolved.commitPosition, 'the head of $all');
    }
    return position;
  };

  const positionOf = async (streamName: string, revision: number): Promise<number> => {
    const [event] = await readStream(streamName, { direction: 'backwards', fromRevision: revision, maxCount: 1 });
    if (!event || event.revision !== revision)
      throw new Error(`esdb: ${streamName}@${revision} not found right after appending it`);
    return event.position;
  };

  return {
    async appendToStream(streamName, events, appendOptions): Promise<AppendResult> {
      assertOpen();
      assertAppendable(streamName, events);
      const expected = appendOptions?.expectedRevision ?? 'any';
      const proposed = events.map((event) => toEsdbEvent(streamName, event));
      let result: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
      try {
        result = await client.appendToStream(streamName, proposed, { expectedRevision: toExpected(expected) });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          // With `any` the only conflict EventStoreDB reports is "corrupted idempotency": some of
          // the ids are already stored in this stream, but not as exactly this append.
          if (expected === 'any')
            throw new EventIdConflictError(
              streamName,
              events.map((event) => event.id),
            );
          throw new WrongExpectedRevisionError(streamName, expected, toCurrent(error.actualVersion));
        }
        throw error;
      }
      const nextExpectedRevision = Number(result.nextExpectedRevision);
      // The server's position is the one of this single event; an idempotent replay has none,
      // and for several events we do not rely on which record it names: read the last one back.
      const position =
        events.length === 1 && result.position
          ? toPosition(result.position.commit, 'the append')
          : await positionOf(streamName, nextExpectedRevision);
      return { nextExpectedRevision, position };
    },

    async readStream(streamName, readOptions) {
      assertOpen();
      return readStream(streamName, readOptions);
    },

    async streamRevision(streamName) {
      assertOpen();
      const [last] = await collect(
        client.readStream(streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }) as Readable<{
          event?: EsdbRecord;
        }>,
      );
      return last ? last.revision : 'no_stream';
    },

    async readAll(readOptions: ReadAllOptions = {}) {
      assertOpen();
      const after = readOptions.after ?? -1;
      const maxCount = readOptions.maxCount ?? 1000;
      const result: RecordedEvent[] = [];
      // The client's `$all` read has no server-side filter: page through and filter here.
      let cursor = after;
      for (;;) {
        let records = 0;
        let last = cursor;
        let full = false;
        // Read each page to its end (see `head`), then keep what the caller asked for.
        for await (const resolved of client.readAll({
          direction: FORWARDS,
          fromPosition: cursor < 0 ? START : fromPosition(cursor),
          maxCount: pageSize,
        })) {
          records++;
          const raw = resolved.event;
          if (full || !raw) continue;
          const position = toPosition(raw.position.commit, `event ${raw.id}`);
          if (position <= cursor) continue; // a read from a position includes the record at it
          last = position;
          if (!matchesFilter(raw, readOptions.filter)) continue;
          const event = fromEsdbEvent(raw);
          if (event) result.push(event);
          full = result.length >= maxCount;
        }
        if (full) return result;
        if (records < pageSize || last === cursor) return result;
        cursor = last;
      }
    },

    subscribeToAll(subscribeOptions) {
      assertOpen();
      const subscription = startEsdbSubscription(
        client,
        () => head(),
        subscribeOptions,
        settings.reconnect ?? {},
        (s) => subscriptions.delete(s),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    subscribeToPersistentGroup(groupOptions) {
      assertOpen();
      const subscription = startPersistentGroupSubscription(client, groupOptions, settings.reconnect ?? {}, (s) =>
        subscriptions.delete(s),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async ping() {
      assertOpen();
      await head(settings.pingTimeoutMs ?? 5000);
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      // dispose() waits for every call the client started to finish; never hang a shutdown on it.
      await Promise.race([client.dispose(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      // `dispose` ends the calls; the channel itself is only reachable this way in 6.x.
      const channel = await (client as unknown as { getChannel?: () => Promise<{ close(): void }> })
        .getChannel?.()
        .catch(() => undefined);
      channel?.close();
    },
  };
}

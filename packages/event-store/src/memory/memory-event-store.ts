import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.js';
import {
  assertAppendable,
  assertMultiAppendable,
  categoryOf,
  satisfiesExpectedRevision,
} from '../expected-revision.js';
import { startCatchUpSubscription } from '../subscription/catch-up-subscription.js';
import { ChangeSignal } from '../subscription/change-signal.js';
import type {
  AllFilter,
  AppendOptions,
  AppendResult,
  CurrentRevision,
  EventData,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  Subscription,
} from '../types.js';

const matches = (event: RecordedEvent, filter: AllFilter | undefined): boolean =>
  (!filter?.categories || filter.categories.includes(categoryOf(event.streamName))) &&
  (!filter?.eventTypes || filter.eventTypes.includes(event.type)) &&
  (filter?.tenantId === undefined || event.metadata.tenantId === filter.tenantId);

/** Index of the first event with `position > after` (positions are sorted). */
const firstAfter = (log: RecordedEvent[], after: number): number => {
  let low = 0;
  let high = log.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (log[mid]!.position <= after) low = mid + 1;
    else high = mid;
  }
  return low;
};

/**
 * In-process event store for unit tests: the same semantics as the postgres adapter (the
 * contract suite runs against both), no durability. Events are deep-copied in and out so a
 * caller cannot mutate stored history.
 */
export function createMemoryEventStore(): EventStore {
  const log: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const byId = new Map<string, RecordedEvent>();
  const changes = new ChangeSignal();
  const subscriptions = new Set<Subscription>();
  let nextPosition = 0;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new Error('event store is closed');
  };

  const replayOf = (streamName: string, events: EventData[]): RecordedEvent[] | undefined => {
    const stored = events.map((event) => byId.get(event.id));
    if (stored.every((event) => event === undefined)) return undefined;
    const first = stored[0];
    const consistent =
      first !== undefined &&
      stored.every((event, index) => event?.streamName === streamName && event.revision === first.revision + index);
    if (!consistent)
      throw new EventIdConflictError(
        streamName,
        events.filter((e) => byId.has(e.id)).map((e) => e.id),
      );
    return stored as RecordedEvent[];
  };

  /**
   * Checks one append against the current state without writing: the replayed result, or the
   * events to write. Throws the append's error. Split from the write so that a multi-stream
   * append checks every part before it writes any.
   */
  const check = (
    streamName: string,
    events: EventData[],
    options?: AppendOptions,
  ): { replayed: AppendResult } | { write: () => AppendResult } => {
    const expected = options?.expectedRevision ?? 'any';
    const stream = streams.get(streamName) ?? [];
    const current: CurrentRevision = stream.length === 0 ? 'no_stream' : stream.length - 1;
    const replay = replayOf(streamName, events);
    if (replay) {
      const first = replay[0]!.revision;
      const originalSatisfied =
        expected === 'any' ||
        (expected === 'no_stream' && first === 0) ||
        (expected === 'stream_exists' && first > 0) ||
        expected === first - 1;
      if (!originalSatisfied) throw new WrongExpectedRevisionError(streamName, expected, current);
      const last = replay[replay.length - 1]!;
      return { replayed: { nextExpectedRevision: last.revision, position: last.position } };
    }
    if (!satisfiesExpectedRevision(expected, current))
      throw new WrongExpectedRevisionError(streamName, expected, current);
    return {
      write: () => {
        const recordedAt = new Date();
        const recorded = events.map(
          (event, index): RecordedEvent => ({
            id: event.id,
            streamName,
            revision: stream.length + index,
            position: nextPosition++,
            type: event.type,
            schemaVersion: event.schemaVersion ?? 1,
            data: structuredClone(event.data),
            metadata: structuredClone(event.metadata),
            recordedAt,
          }),
        );
        for (const event of recorded) {
          stream.push(event);
          log.push(event);
          byId.set(event.id, event);
        }
        streams.set(streamName, stream);
        const last = recorded[recorded.length - 1]!;
        return { nextExpectedRevision: last.revision, position: last.position };
      },
    };
  };

  const append = (streamName: string, events: EventData[], options?: AppendOptions): AppendResult => {
    assertOpen();
    assertAppendable(streamName, events);
    const checked = check(streamName, events, options);
    if ('replayed' in checked) return checked.replayed;
    const result = checked.write();
    changes.notify();
    return result;
  };

  // All parts are checked before any is written, and nothing else runs in between (the store is
  // synchronous inside), so this is as atomic as one transaction.
  const appendMany = (appends: StreamAppend[]): AppendResult[] => {
    assertOpen();
    assertMultiAppendable(appends);
    const checked = appends.map((part) => check(part.streamName, part.events, part));
    const results = checked.map((part) => ('replayed' in part ? part.replayed : part.write()));
    if (checked.some((part) => 'write' in part)) changes.notify();
    return results;
  };

  const copy = (event: RecordedEvent): RecordedEvent => structuredClone(event);

  const readAllNow = (after: number, maxCount: number, filter: AllFilter | undefined) => {
    const result: RecordedEvent[] = [];
    for (let index = firstAfter(log, after); index < log.length && result.length < maxCount; index++) {
      const event = log[index]!;
      if (matches(event, filter)) result.push(copy(event));
    }
    return result;
  };

  const source = {
    changes,
    head: async () => log[log.length - 1]?.position ?? -1,
    readPage: async (after: number, maxCount: number, filter: AllFilter | undefined) => {
      const events = readAllNow(after, maxCount, filter);
      const head = log[log.length - 1]?.position ?? -1;
      const full = events.length >= maxCount;
      return { events, scannedTo: full ? events[events.length - 1]!.position : head, heldBack: false, head };
    },
  };

  return {
    async appendToStream(streamName, events, options) {
      return append(streamName, events, options);
    },

    async appendToStreams(appends) {
      return appendMany(appends);
    },

    async readStream(streamName, options: ReadStreamOptions = {}) {
      assertOpen();
      const stream = streams.get(streamName) ?? [];
      const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
      if (options.direction === 'backwards') {
        const from = Math.min(options.fromRevision ?? stream.length - 1, stream.length - 1);
        const result: RecordedEvent[] = [];
        for (let revision = from; revision >= 0 && result.length < maxCount; revision--)
          result.push(copy(stream[revision]!));
        return result;
      }
      const from = Math.max(options.fromRevision ?? 0, 0);
      return stream.slice(from, maxCount === Number.POSITIVE_INFINITY ? undefined : from + maxCount).map(copy);
    },

    async streamRevision(streamName) {
      assertOpen();
      const stream = streams.get(streamName);
      return stream && stream.length > 0 ? stream.length - 1 : 'no_stream';
    },

    async readAll(options: ReadAllOptions = {}) {
      assertOpen();
      return readAllNow(options.after ?? -1, options.maxCount ?? 1000, options.filter);
    },

    subscribeToAll(options) {
      assertOpen();
      const subscription = startCatchUpSubscription(source, options, { idlePollMs: 1000, heldBackPollMs: 1000 }, (s) =>
        subscriptions.delete(s),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async ping() {
      assertOpen();
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    },
  };
}

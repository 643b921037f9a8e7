/**
 * Persistent subscriptions (consumer groups) of the EventStoreDB protocol TEST DOUBLE: the
 * `event_store.client.persistent_subscriptions.PersistentSubscriptions` service's `Create` and
 * `Read` calls, over the same in-memory {@link TestLog}. A group delivers each event to one of
 * its connected consumers (round robin among those with room in their buffer), redelivers what
 * is nacked with `retry` or left unacked by a consumer that went away (retry count + 1), parks
 * an event whose retry count would pass `maxRetryCount` (or nacked with `park`), and remembers
 * the acked events. See README.md.
 */
import { randomUUID } from 'node:crypto';
import persistentPb from '@eventstore/db-client/generated/persistent_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import * as grpc from '@grpc/grpc-js';
import type { StoredEvent, TestLog } from './test-log.js';

type CreateReq = InstanceType<typeof persistentPb.CreateReq>;
type CreateResp = InstanceType<typeof persistentPb.CreateResp>;
type ReadReq = InstanceType<typeof persistentPb.ReadReq>;
type ReadResp = InstanceType<typeof persistentPb.ReadResp>;
type UUID = InstanceType<typeof sharedPb.UUID>;
export type PersistentCall = grpc.ServerDuplexStream<ReadReq, ReadResp>;

/** The filter expression shape shared by `Streams.Read` and `PersistentSubscriptions.Create`. */
interface FilterLike {
  hasStreamIdentifier(): boolean;
  getStreamIdentifier(): { getRegex(): string; getPrefixList(): string[] } | undefined;
  getEventType(): { getRegex(): string; getPrefixList(): string[] } | undefined;
}

/** Stream `end` as the client sends a persistent subscription's start revision (2^64 - 1). */
const END_REVISION = '18446744073709551615';
const NACK_PARK = 1;
const NACK_RETRY = 2;
const NACK_SKIP = 3;

interface Consumer {
  call: PersistentCall;
  bufferSize: number;
  inFlight: number;
}

interface Delivery {
  event: StoredEvent;
  retryCount: number;
}

/** One consumer group on a stream or `$all`. */
export interface PersistentGroup {
  readonly stream: string;
  readonly group: string;
  readonly maxRetryCount: number;
  /** Ids of the events acked (or skipped) by a consumer. */
  readonly acked: Set<string>;
  /** Events parked (retry count exhausted or nacked with `park`), in parking order. */
  readonly parked: StoredEvent[];
  /** Deliveries waiting for an ack, by event id. */
  readonly inFlight: Map<string, Delivery & { consumer: Consumer }>;
  /** Every delivery made, in order: event id, consumer's subscription id, retry count. */
  readonly deliveries: Array<{ eventId: string; consumerId: string; retryCount: number }>;
  readonly consumers: Consumer[];
  /** Index (in the stream's or `$all`'s events) of the next event never delivered. */
  cursor: number;
  readonly retries: Delivery[];
  nextConsumer: number;
  readonly matches: (event: StoredEvent) => boolean;
}

const uuidOf = (uuid: UUID): string => {
  if (uuid.hasString()) return uuid.getString().toLowerCase();
  const structured = uuid.getStructured()!;
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
  bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export const compileFilterExpression = (filter: FilterLike | undefined): ((event: StoredEvent) => boolean) => {
  if (!filter) return () => true;
  const onStream = filter.hasStreamIdentifier();
  const expression = onStream ? filter.getStreamIdentifier()! : filter.getEventType()!;
  const regex = expression.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  const prefixes = expression.getPrefixList();
  return (event) => {
    const subject = onStream ? event.streamName : event.type;
    if (regex && !regex.test(subject)) return false;
    if (prefixes.length > 0 && !prefixes.some((prefix) => subject.startsWith(prefix))) return false;
    return true;
  };
};

const failure = (code: grpc.status, details: string, exception: string, stream: string, group: string) => {
  const metadata = new grpc.Metadata();
  metadata.set('exception', exception);
  metadata.set('stream-name', stream);
  metadata.set('group-name', group);
  return { code, details, metadata };
};

const readEvent = (delivery: Delivery): ReadResp => {
  const { event } = delivery;
  const recorded = new persistentPb.ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(event.id);
  recorded.setId(id);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Uint8Array.from(Buffer.from(event.streamName, 'utf8')));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(String(event.revision));
  recorded.setPreparePosition(String(event.position));
  recorded.setCommitPosition(String(event.position));
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.created.toString());
  recorded.setCustomMetadata(event.customMetadata);
  recorded.setData(event.data);
  const message = new persistentPb.ReadResp.ReadEvent();
  message.setEvent(recorded);
  message.setCommitPosition(String(event.position));
  message.setRetryCount(delivery.retryCount);
  const response = new persistentPb.ReadResp();
  response.setEvent(message);
  return response;
};

/** The `PersistentSubscriptions` service over `log`; `liveCalls` collects the open Read calls (dropped by a stop). */
export function persistentSubscriptions(log: TestLog, liveCalls: Set<{ destroy?: () => void }>) {
  const groups = new Map<string, PersistentGroup>();
  const key = (stream: string, group: string) => `${stream}\u0000${group}`;
  const eventsOf = (group: PersistentGroup): StoredEvent[] =>
    group.stream === '$all' ? log.events : (log.streams.get(group.stream) ?? []);

  /** Hands out retries first, then new events, to consumers with room, round robin. */
  const dispatch = (group: PersistentGroup) => {
    for (;;) {
      const ready = group.consumers.filter((consumer) => consumer.inFlight < consumer.bufferSize);
      if (ready.length === 0) return;
      let delivery = group.retries.shift();
      if (!delivery) {
        const events = eventsOf(group);
        while (group.cursor < events.length) {
          const event = events[group.cursor++]!;
          if (group.matches(event) && !group.acked.has(event.id)) {
            delivery = { event, retryCount: 0 };
            break;
          }
        }
      }
      if (!delivery) return;
      const consumer = ready[group.nextConsumer++ % ready.length]!;
      consumer.inFlight++;
      group.inFlight.set(delivery.event.id, { ...delivery, consumer });
      group.deliveries.push({
        eventId: delivery.event.id,
        consumerId: (consumer.call as unknown as { subscriptionId: string }).subscriptionId,
        retryCount: delivery.retryCount,
      });
      consumer.call.write(readEvent(delivery));
    }
  };

  /** Back into the queue with one more retry, or parked once past `maxRetryCount`. */
  const redeliver = (group: PersistentGroup, delivery: Delivery) => {
    const retryCount = delivery.retryCount + 1;
    if (retryCount > group.maxRetryCount) group.parked.push(delivery.event);
    else group.retries.push({ event: delivery.event, retryCount });
  };

  const settle = (group: PersistentGroup, consumer: Consumer, ids: UUID[], action: 'ack' | number) => {
    for (const uuid of ids) {
      const id = uuidOf(uuid);
      const delivery = group.inFlight.get(id);
      if (!delivery || delivery.consumer !== consumer) continue;
      group.inFlight.delete(id);
      consumer.inFlight--;
      if (action === 'ack' || action === NACK_SKIP) group.acked.add(id);
      else if (action === NACK_PARK) group.parked.push(delivery.event);
      else if (action === NACK_RETRY) redeliver(group, delivery);
      else redeliver(group, delivery); // UNKNOWN / STOP: EventStoreDB retries as well
    }
  };

  const implementation: grpc.UntypedServiceImplementation = {
    create: (call: grpc.ServerUnaryCall<CreateReq, CreateResp>, callback: grpc.sendUnaryData<CreateResp>) => {
      const options = call.request.getOptions();
      if (!options) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'CreateReq without options' });
      const name = options.getGroupName();
      const settings = options.getSettings();
      let stream = '$all';
      let cursor = 0;
      let matches: (event: StoredEvent) => boolean = () => true;
      if (options.hasAll()) {
        const all = options.getAll()!;
        cursor = all.hasPosition()
          ? log.indexAtOrAfter(Number(all.getPosition()!.getCommitPosition()))
          : all.hasEnd()
            ? log.events.length
            : 0;
        if (all.hasFilter()) matches = compileFilterExpression(all.getFilter() as unknown as FilterLike);
      } else {
        const streamOptions = options.hasStream() ? options.getStream() : undefined;
        const identifier = streamOptions?.getStreamIdentifier() ?? options.getStreamIdentifier();
        stream = Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
        const length = log.streams.get(stream)?.length ?? 0;
        const revision = streamOptions
          ? streamOptions.hasEnd()
            ? END_REVISION
            : streamOptions.hasRevision()
              ? streamOptions.getRevision()
              : '0'
          : (settings?.getRevision() ?? '0');
        cursor = revision === END_REVISION ? length : Number(revision);
      }
      const groupKey = key(stream, name);
      if (groups.has(groupKey))
        return callback(
          failure(
            grpc.status.ALREADY_EXISTS,
            `Subscription group ${name} on stream ${stream} exists.`,
            'persistent-subscription-exists',
            stream,
            name,
          ),
        );
      groups.set(groupKey, {
        stream,
        group: name,
        maxRetryCount: settings?.getMaxRetryCount() ?? 10,
        acked: new Set(),
        parked: [],
        inFlight: new Map(),
        deliveries: [],
        consumers: [],
        cursor,
        retries: [],
        nextConsumer: 0,
        matches,
      });
      callback(null, new persistentPb.CreateResp());
    },

    read: (call: PersistentCall) => {
      let consumer: Consumer | undefined;
      let group: PersistentGroup | undefined;
      let unsubscribe = () => undefined as unknown;
      const leave = () => {
        liveCalls.delete(call as unknown as { destroy?: () => void });
        unsubscribe();
        if (!group || !consumer) return;
        const current = group;
        const gone = consumer;
        consumer = undefined;
        current.consumers.splice(current.consumers.indexOf(gone), 1);
        // A consumer that went away leaves its unacked events to the others.
        for (const [id, delivery] of [...current.inFlight]) {
          if (delivery.consumer !== gone) continue;
          current.inFlight.delete(id);
          redeliver(current, delivery);
        }
        dispatch(current);
      };
      call.on('error', () => undefined);
      call.on('cancelled', leave);
      call.on('close', leave);
      call.on('end', () => {
        leave();
        call.end();
      });
      call.on('data', (message: ReadReq) => {
        if (message.hasOptions()) {
          const options = message.getOptions()!;
          const stream = options.hasAll()
            ? '$all'
            : Buffer.from(options.getStreamIdentifier()?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
          const name = options.getGroupName();
          const found = groups.get(key(stream, name));
          if (!found) {
            call.emit(
              'error',
              failure(
                grpc.status.NOT_FOUND,
                `Subscription group ${name} on stream ${stream} does not exist.`,
                'persistent-subscription-does-not-exist',
                stream,
                name,
              ),
            );
            return;
          }
          const subscriptionId = randomUUID();
          (call as unknown as { subscriptionId: string }).subscriptionId = subscriptionId;
          group = found;
          consumer = { call, bufferSize: Math.max(1, options.getBufferSize()), inFlight: 0 };
          found.consumers.push(consumer);
          liveCalls.add(call as unknown as { destroy?: () => void });
          unsubscribe = log.onWrite(() => dispatch(found));
          const confirmation = new persistentPb.ReadResp.SubscriptionConfirmation();
          confirmation.setSubscriptionId(subscriptionId);
          const confirmed = new persistentPb.ReadResp();
          confirmed.setSubscriptionConfirmation(confirmation);
          call.write(confirmed);
          dispatch(found);
          return;
        }
        if (!group || !consumer) return;
        if (message.hasAck()) settle(group, consumer, message.getAck()!.getIdsList(), 'ack');
        else if (message.hasNack()) {
          const nack = message.getNack()!;
          settle(group, consumer, nack.getIdsList(), nack.getAction());
        }
        dispatch(group);
      });
    },
  };

  return {
    implementation,
    /** A group's state (tests look at deliveries, acks and parked events). */
    group(stream: string, name: string): PersistentGroup | undefined {
      return groups.get(key(stream, name));
    },
  };
}

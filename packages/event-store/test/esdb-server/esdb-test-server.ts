/**
 * A TEST DOUBLE of an EventStoreDB node: a gRPC server speaking the v1 client protocol
 * (`event_store.client.streams.Streams` and `ServerFeatures`) from the service definitions that
 * `@eventstore/db-client` ships, backed by an in-memory {@link TestLog}. Insecure only. See
 * README.md for what it implements and what it does not.
 */
import { randomUUID } from 'node:crypto';
import persistentGrpc from '@eventstore/db-client/generated/persistent_grpc_pb.js';
import featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import featuresPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import * as grpc from '@grpc/grpc-js';
import { type PersistentGroup, persistentSubscriptions } from './persistent-subscriptions.js';
import { type EsdbExpected, type ProposedEvent, type StoredEvent, TestLog, type TestLogOptions } from './test-log.js';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
type AppendReq = InstanceType<typeof streamsPb.AppendReq>;
type AppendResp = InstanceType<typeof streamsPb.AppendResp>;
type FilterOptions = InstanceType<typeof streamsPb.ReadReq.Options.FilterOptions>;

export interface EsdbTestServerOptions extends TestLogOptions {
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** Version reported by ServerFeatures. @defaultValue '24.10.0' */
  serverVersion?: string;
}

export interface EsdbTestServer {
  /** Connection string for the client: `esdb://127.0.0.1:<port>?tls=false`. */
  readonly url: string;
  readonly port: number;
  readonly log: TestLog;
  /** A persistent subscription group's state (`stream` = `'$all'` for a group on `$all`). */
  persistentGroup(stream: string, group: string): PersistentGroup | undefined;
  /** Drops every connection and stops listening (the log is kept). */
  stop(): Promise<void>;
  /** Listens again on the same port with the same log. */
  start(): Promise<void>;
  readonly running: boolean;
}

const SUPPORTED: Array<[service: string, method: string, features: string[]]> = [
  ['event_store.client.streams.Streams', 'read', ['position', 'events']],
  ['event_store.client.streams.Streams', 'append', []],
  ['event_store.client.server_features.ServerFeatures', 'getsupportedmethods', []],
  ['event_store.client.persistent_subscriptions.PersistentSubscriptions', 'create', ['stream', 'all']],
  ['event_store.client.persistent_subscriptions.PersistentSubscriptions', 'read', ['stream', 'all']],
];

/** Window for filtered reads/subscriptions when the client gives none (EventStoreDB's default). */
const DEFAULT_FILTER_WINDOW = 32;

const streamNameOf = (identifier: InstanceType<typeof sharedPb.StreamIdentifier> | undefined): string =>
  Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');

const identifierOf = (streamName: string) => {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Uint8Array.from(Buffer.from(streamName, 'utf8')));
  return identifier;
};

const uuidString = (uuid: InstanceType<typeof sharedPb.UUID> | undefined): string => {
  if (!uuid) return randomUUID();
  if (uuid.hasString()) return uuid.getString().toLowerCase();
  const structured = uuid.getStructured()!;
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
  bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const eventResponse = (event: StoredEvent): ReadResp => {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(event.id);
  recorded.setId(id);
  recorded.setStreamIdentifier(identifierOf(event.streamName));
  recorded.setStreamRevision(String(event.revision));
  recorded.setPreparePosition(String(event.position));
  recorded.setCommitPosition(String(event.position));
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.created.toString());
  recorded.setCustomMetadata(event.customMetadata);
  recorded.setData(event.data);
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  readEvent.setCommitPosition(String(event.position));
  const response = new streamsPb.ReadResp();
  response.setEvent(readEvent);
  return response;
};

/** An EventStoreDB filter expression (regex or prefixes) on stream names or event types. */
const compileFilter = (filter: FilterOptions | undefined): ((event: StoredEvent) => boolean) => {
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

/** Writes with backpressure; resolves false if the call went away. */
const write = (call: grpc.ServerWritableStream<ReadReq, ReadResp>, message: ReadResp): Promise<boolean> | boolean => {
  if (call.cancelled || call.destroyed) return false;
  if (call.write(message)) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      call.off('drain', onDrain);
      call.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    call.on('drain', onDrain);
    call.on('close', onClose);
  });
};

export async function startEsdbTestServer(options: EsdbTestServerOptions = {}): Promise<EsdbTestServer> {
  const log = new TestLog(options);
  let server: grpc.Server | undefined;
  let port = options.port ?? 0;
  const liveCalls = new Set<grpc.ServerWritableStream<ReadReq, ReadResp>>();
  const livePersistentCalls = new Set<{ destroy?: () => void }>();
  const persistent = persistentSubscriptions(log, livePersistentCalls);

  const readStream = async (call: grpc.ServerWritableStream<ReadReq, ReadResp>, request: ReadReq) => {
    const readOptions = request.getOptions()!;
    const streamOptions = readOptions.getStream()!;
    const streamName = streamNameOf(streamOptions.getStreamIdentifier());
    if (readOptions.hasSubscription()) {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'stream subscriptions: not in the test double' });
      return;
    }
    const stream = log.streams.get(streamName);
    if (!stream || stream.length === 0) {
      const notFound = new streamsPb.ReadResp.StreamNotFound();
      notFound.setStreamIdentifier(identifierOf(streamName));
      const response = new streamsPb.ReadResp();
      response.setStreamNotFound(notFound);
      await write(call, response);
      call.end();
      return;
    }
    const backwards = readOptions.getReadDirection() === 1;
    let count = Number(readOptions.getCount());
    const last = stream.length - 1;
    let revision = streamOptions.hasRevision()
      ? Number(streamOptions.getRevision())
      : streamOptions.hasEnd()
        ? backwards
          ? last
          : last + 1
        : 0;
    if (backwards) revision = Math.min(revision, last);
    const filter = readOptions.hasFilter() ? compileFilter(readOptions.getFilter()) : () => true;
    while (count > 0 && revision >= 0 && revision <= last) {
      const event = stream[revision]!;
      revision += backwards ? -1 : 1;
      if (!filter(event)) continue;
      if (!(await write(call, eventResponse(event)))) return;
      count--;
    }
    call.end();
  };

  const readAll = async (call: grpc.ServerWritableStream<ReadReq, ReadResp>, request: ReadReq) => {
    const readOptions = request.getOptions()!;
    const all = readOptions.getAll()!;
    const backwards = readOptions.getReadDirection() === 1;
    const filter = readOptions.hasFilter() ? compileFilter(readOptions.getFilter()) : () => true;
    let count = Number(readOptions.getCount());
    // Forwards from a position includes the record at it; backwards returns the records before it.
    let index = all.hasPosition()
      ? log.indexAtOrAfter(Number(all.getPosition()!.getCommitPosition())) - (backwards ? 1 : 0)
      : all.hasEnd()
        ? log.events.length - (backwards ? 1 : 0)
        : backwards
          ? -1
          : 0;
    while (count > 0 && index >= 0 && index < log.events.length) {
      const event = log.events[index]!;
      index += backwards ? -1 : 1;
      if (!filter(event)) continue;
      if (!(await write(call, eventResponse(event)))) return;
      count--;
    }
    call.end();
  };

  /** Catch-up subscription to `$all`: confirmation, history, caught-up, then live events. */
  const subscribeToAll = async (call: grpc.ServerWritableStream<ReadReq, ReadResp>, request: ReadReq) => {
    const readOptions = request.getOptions()!;
    const all = readOptions.getAll()!;
    const filterOptions = readOptions.hasFilter() ? readOptions.getFilter() : undefined;
    const filter = compileFilter(filterOptions);
    const checkpointEvery = filterOptions
      ? (filterOptions.hasMax() ? filterOptions.getMax() : DEFAULT_FILTER_WINDOW) *
        Math.max(1, filterOptions.getCheckpointintervalmultiplier())
      : Number.POSITIVE_INFINITY;
    // Subscribing from a position starts strictly after it.
    let cursor = all.hasPosition()
      ? log.indexAtOrAfter(Number(all.getPosition()!.getCommitPosition()) + 1)
      : all.hasEnd()
        ? log.events.length
        : 0;
    let wake: (() => void) | undefined;
    const unsubscribe = log.onWrite(() => wake?.());
    liveCalls.add(call);
    const gone = new Promise<void>((resolve) => {
      call.on('cancelled', resolve);
      call.on('close', resolve);
    });
    try {
      const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
      confirmation.setSubscriptionId(randomUUID());
      const confirmed = new streamsPb.ReadResp();
      confirmed.setConfirmation(confirmation);
      if (!(await write(call, confirmed))) return;
      let caughtUp = false;
      let scanned = 0;
      for (;;) {
        while (cursor < log.events.length) {
          const event = log.events[cursor++]!;
          if (filter(event) && !(await write(call, eventResponse(event)))) return;
          if (++scanned >= checkpointEvery) {
            scanned = 0;
            const checkpoint = new streamsPb.ReadResp.Checkpoint();
            checkpoint.setCommitPosition(String(event.position));
            checkpoint.setPreparePosition(String(event.position));
            const response = new streamsPb.ReadResp();
            response.setCheckpoint(checkpoint);
            if (!(await write(call, response))) return;
          }
        }
        if (!caughtUp) {
          caughtUp = true;
          const response = new streamsPb.ReadResp();
          response.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
          if (!(await write(call, response))) return;
        }
        const changed = new Promise<void>((resolve) => {
          wake = resolve;
        });
        if (cursor < log.events.length) continue;
        const reason = await Promise.race([changed.then(() => 'changed' as const), gone.then(() => 'gone' as const)]);
        if (reason === 'gone') return;
      }
    } finally {
      unsubscribe();
      liveCalls.delete(call);
    }
  };

  const streamsImplementation: grpc.UntypedServiceImplementation = {
    read: (call: grpc.ServerWritableStream<ReadReq, ReadResp>) => {
      const request = call.request;
      const readOptions = request.getOptions();
      const run = !readOptions
        ? Promise.reject(new Error('ReadReq without options'))
        : readOptions.hasStream()
          ? readStream(call, request)
          : readOptions.hasSubscription()
            ? subscribeToAll(call, request)
            : readAll(call, request);
      run.catch((error: unknown) => {
        if (!call.cancelled && !call.destroyed)
          call.emit('error', { code: grpc.status.INTERNAL, details: String((error as Error)?.message ?? error) });
      });
    },

    append: (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>) => {
      let streamName: string | undefined;
      let expected: EsdbExpected = { kind: 'any' };
      const proposed: ProposedEvent[] = [];
      let invalid: string | undefined;
      call.on('data', (message: AppendReq) => {
        if (message.hasOptions()) {
          const appendOptions = message.getOptions()!;
          streamName = streamNameOf(appendOptions.getStreamIdentifier());
          expected = appendOptions.hasRevision()
            ? { kind: 'revision', revision: Number(appendOptions.getRevision()) }
            : appendOptions.hasNoStream()
              ? { kind: 'no_stream' }
              : appendOptions.hasStreamExists()
                ? { kind: 'stream_exists' }
                : { kind: 'any' };
          return;
        }
        const proposal = message.getProposedMessage();
        if (!proposal) return;
        const id = uuidString(proposal.getId());
        if (!UUID_PATTERN.test(id)) invalid = `event id "${id}" is not a UUID`;
        const metadata = proposal.getMetadataMap();
        const type = metadata.get('type');
        const contentType = metadata.get('content-type');
        if (!type || !contentType) invalid = 'proposed message without "type" or "content-type" metadata';
        proposed.push({
          id,
          type: type ?? '',
          contentType: contentType ?? 'application/octet-stream',
          data: proposal.getData_asU8(),
          customMetadata: proposal.getCustomMetadata_asU8(),
        });
      });
      call.on('error', () => undefined);
      call.on('end', () => {
        if (streamName === undefined || invalid) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: invalid ?? 'append without options' });
          return;
        }
        const outcome = log.append(streamName, expected, proposed);
        const response = new streamsPb.AppendResp();
        if (outcome.kind === 'wrong_expected_version') {
          const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
          if (outcome.current === 'no_stream') wrong.setCurrentNoStream(new sharedPb.Empty());
          else wrong.setCurrentRevision(String(outcome.current));
          if (expected.kind === 'revision') wrong.setExpectedRevision(String(expected.revision));
          else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
          else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
          else wrong.setExpectedAny(new sharedPb.Empty());
          response.setWrongExpectedVersion(wrong);
        } else {
          const success = new streamsPb.AppendResp.Success();
          if (outcome.lastRevision < 0) success.setNoStream(new sharedPb.Empty());
          else success.setCurrentRevision(String(outcome.lastRevision));
          if (outcome.kind === 'written') {
            const position = new streamsPb.AppendResp.Position();
            position.setCommitPosition(String(outcome.position));
            position.setPreparePosition(String(outcome.position));
            success.setPosition(position);
          } else {
            // EventStoreDB answers an idempotent append without a position.
            success.setNoPosition(new sharedPb.Empty());
          }
          response.setSuccess(success);
        }
        callback(null, response);
      });
    },
  };

  const featuresImplementation: grpc.UntypedServiceImplementation = {
    getSupportedMethods: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const methods = new featuresPb.SupportedMethods();
      methods.setEventStoreServerVersion(options.serverVersion ?? '24.10.0');
      methods.setMethodsList(
        SUPPORTED.map(([service, method, features]) => {
          const supported = new featuresPb.SupportedMethod();
          supported.setServiceName(service);
          supported.setMethodName(method);
          supported.setFeaturesList(features);
          return supported;
        }),
      );
      callback(null, methods);
    },
  };

  const start = async () => {
    if (server) return;
    const next = new grpc.Server();
    next.addService(streamsGrpc.StreamsService as unknown as grpc.ServiceDefinition, streamsImplementation);
    next.addService(featuresGrpc.ServerFeaturesService as unknown as grpc.ServiceDefinition, featuresImplementation);
    next.addService(
      persistentGrpc.PersistentSubscriptionsService as unknown as grpc.ServiceDefinition,
      persistent.implementation,
    );
    port = await new Promise<number>((resolve, reject) =>
      next.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    server = next;
  };

  const stop = async () => {
    const current = server;
    if (!current) return;
    server = undefined;
    // Subscriptions never end on their own: end them as a crashing node would (connection gone).
    for (const call of liveCalls) call.destroy?.();
    for (const call of livePersistentCalls) call.destroy?.();
    current.forceShutdown();
  };

  await start();
  return {
    get url() {
      return `esdb://127.0.0.1:${port}?tls=false`;
    },
    get port() {
      return port;
    },
    log,
    persistentGroup: (stream, group) => persistent.group(stream, group),
    stop,
    start,
    get running() {
      return server !== undefined;
    },
  };
}

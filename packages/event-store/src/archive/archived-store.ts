import { categoryOf } from '../expected-revision.js';
import { logEventOf } from '../log-event.js';
import type {
  AllFilter,
  EventStore,
  ReadAllOptions,
  ReadLogOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamLogOptions,
} from '../types.js';
import { type ArchiveFileEntry, type ArchiveManifest, readArchiveFile, readManifest } from './manifest.js';

const matches = (event: RecordedEvent, filter: AllFilter | undefined): boolean =>
  (!filter?.categories || filter.categories.includes(categoryOf(event.streamName))) &&
  (!filter?.eventTypes || filter.eventTypes.includes(event.type)) &&
  (filter?.tenantId === undefined || event.metadata.tenantId === filter.tenantId);

/** Where a sequential read of the archives stopped, kept so the next page continues from it. */
interface Cursor {
  /** The `after` a caller passes to continue (the last event returned). */
  resumeAfter: number;
  filterKey: string;
  fileIndex: number;
  events: AsyncGenerator<RecordedEvent> | undefined;
}

export interface ArchivedEventStore extends EventStore {
  readonly manifest: ArchiveManifest;
  /** Position of the last archived event (-1: no archive): the live log holds only later ones. */
  readonly archivedUpTo: number;
}

/**
 * The log as archives + live store: `readAll` returns the archived events (read from the files
 * of `dir`'s manifest, checksums checked) before the live log's, and `readStream` a stream's
 * archived events before its live ones, so a replay from position 0 works after the old
 * partitions were dropped; `readLog` and `streamLog` (where the live store has them) likewise, the
 * archived part read from the files and the rest by the live store's own (a rebuild from position
 * 0 reads the live log in its worker thread). Appends, `streamRevision` and subscriptions go to the live store
 * (subscriptions deliver the live log only: replay tools read pages). Sequential pages continue
 * where the previous one stopped; a stream read scans the archive files (and keeps the last few
 * streams it read).
 */
export async function withArchives(live: EventStore, dir: string): Promise<ArchivedEventStore> {
  const manifest = await readManifest(dir);
  const files: ArchiveFileEntry[] = manifest.files.filter((f) => f.events > 0);
  const archivedUpTo = files.length > 0 ? files[files.length - 1]!.lastPosition : -1;
  let cursor: Cursor | undefined;
  const streamCache = new Map<string, RecordedEvent[]>();

  const openCursor = (after: number, filterKey: string): Cursor => {
    let fileIndex = files.findIndex((f) => f.lastPosition > after);
    if (fileIndex < 0) fileIndex = files.length;
    return { resumeAfter: after, filterKey, fileIndex, events: undefined };
  };

  /** The next archived event after the cursor's start (undefined: archives exhausted). */
  const next = async (c: Cursor, after: number): Promise<RecordedEvent | undefined> => {
    for (;;) {
      if (c.fileIndex >= files.length) return undefined;
      c.events ??= readArchiveFile(dir, files[c.fileIndex]!);
      const step = await c.events.next();
      if (step.done) {
        c.events = undefined;
        c.fileIndex++;
        continue;
      }
      if (step.value.position > after) return step.value;
    }
  };

  const readArchived = async (after: number, maxCount: number, filter: AllFilter | undefined) => {
    const filterKey = JSON.stringify(filter ?? {});
    let c = cursor;
    if (!c || c.resumeAfter !== after || c.filterKey !== filterKey) {
      await c?.events?.return(undefined);
      c = openCursor(after, filterKey);
    }
    cursor = c;
    const out: RecordedEvent[] = [];
    while (out.length < maxCount) {
      const event = await next(c, after);
      if (!event) break;
      if (matches(event, filter)) out.push(event);
    }
    if (out.length > 0) c.resumeAfter = out[out.length - 1]!.position;
    return out;
  };

  const archivedStream = async (streamName: string): Promise<RecordedEvent[]> => {
    const cached = streamCache.get(streamName);
    if (cached) return cached;
    const events: RecordedEvent[] = [];
    for (const file of files)
      for await (const event of readArchiveFile(dir, file)) if (event.streamName === streamName) events.push(event);
    streamCache.set(streamName, events);
    if (streamCache.size > 8) streamCache.delete(streamCache.keys().next().value!);
    return events;
  };

  return {
    manifest,
    archivedUpTo,
    appendToStream: (...args) => live.appendToStream(...args),
    ...(live.appendToStreams ? { appendToStreams: (appends) => live.appendToStreams!(appends) } : {}),
    streamRevision: (streamName) => live.streamRevision(streamName),
    subscribeToAll: (options) => live.subscribeToAll(options),
    ping: () => live.ping(),
    async close() {
      await cursor?.events?.return(undefined);
      await live.close();
    },

    async readAll(options: ReadAllOptions = {}) {
      const after = options.after ?? -1;
      const maxCount = options.maxCount ?? 1000;
      if (after >= archivedUpTo) return live.readAll(options);
      const archived = await readArchived(after, maxCount, options.filter);
      if (archived.length >= maxCount) return archived;
      const rest = await live.readAll({ ...options, after: archivedUpTo, maxCount: maxCount - archived.length });
      return [...archived, ...rest];
    },

    ...(live.readLog
      ? {
          async readLog(options: ReadLogOptions = {}) {
            const after = options.after ?? -1;
            const maxCount = options.maxCount ?? 1000;
            if (after >= archivedUpTo) return live.readLog!(options);
            const archived = (await readArchived(after, maxCount, options.filter)).map((e) =>
              logEventOf(e, options.recordedAt === true),
            );
            if (archived.length >= maxCount) return archived;
            const rest = await live.readLog!({ ...options, after: archivedUpTo, maxCount: maxCount - archived.length });
            return [...archived, ...rest];
          },
        }
      : {}),

    ...(live.streamLog
      ? {
          async *streamLog(options: StreamLogOptions = {}) {
            let after = options.after ?? -1;
            const maxCount = options.maxCount ?? 1000;
            while (after < archivedUpTo) {
              const page = await readArchived(after, maxCount, options.filter);
              if (page.length === 0) break;
              yield page.map((e) => logEventOf(e, options.recordedAt === true));
              after = page[page.length - 1]!.position;
            }
            yield* live.streamLog!({ ...options, after: Math.max(after, archivedUpTo) });
          },
        }
      : {}),

    async readStream(streamName: string, options: ReadStreamOptions = {}) {
      const archived = files.length > 0 ? await archivedStream(streamName) : [];
      if (archived.length === 0) return live.readStream(streamName, options);
      const liveEvents = await live.readStream(streamName);
      const all = [...archived, ...liveEvents.filter((e) => e.revision > archived[archived.length - 1]!.revision)];
      const backwards = options.direction === 'backwards';
      const from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
      const selected = backwards
        ? all.filter((e) => e.revision <= from).reverse()
        : all.filter((e) => e.revision >= from);
      return options.maxCount === undefined ? selected : selected.slice(0, options.maxCount);
    },
  };
}

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { EventStore } from '../types.js';
import { toArchiveLine } from './format.js';
import { type ArchiveFileEntry, EventsDigest, readManifest, verifyArchiveFile, writeManifest } from './manifest.js';

export interface ExportArchiveOptions {
  /** Any adapter (EventStoreDB in particular): the log is read with `readAll`. */
  store: EventStore;
  /** Events recorded before this are exported (the log is read in order up to the first later one). */
  before: Date;
  dir: string;
  /** Names the source in the manifest, e.g. `esdb:$all`. */
  source: string;
  /** @defaultValue 5000 */
  pageSize?: number;
  onProgress?: (events: number) => void;
}

/**
 * The archive of a store that has no partitions to drop (EventStoreDB): the log after the
 * archive's last event, up to the first event recorded at or after `before`, written as one
 * file in the same format and manifest as `mm archive` on PostgreSQL, and verified. The store
 * keeps the events; on EventStoreDB the operator then lets them go with stream metadata and a
 * scavenge (root README, "Storage and retention"), and `withArchives` reads the archive before
 * what is left. Returns the new manifest entry, or null when nothing was old enough.
 */
export async function exportArchive(options: ExportArchiveOptions): Promise<ArchiveFileEntry | null> {
  const manifest = await readManifest(options.dir);
  const previous = manifest.files[manifest.files.length - 1];
  const start = previous ? previous.lastPosition : -1;
  await mkdir(options.dir, { recursive: true });
  const temporary = join(options.dir, `export.${process.pid}.tmp`);
  const sha = createHash('sha256');
  const digest = new EventsDigest();
  const gzip = createGzip({ level: 9 });
  gzip.on('data', (chunk: Buffer) => sha.update(chunk));
  const writing = pipeline(gzip, createWriteStream(temporary));
  let count = 0;
  let first: { position: number; at: string } | undefined;
  let last: { position: number; at: string } | undefined;
  try {
    let after = start;
    reading: for (;;) {
      const page = await options.store.readAll({ after, maxCount: options.pageSize ?? 5000 });
      if (page.length === 0) break;
      let chunk = '';
      for (const event of page) {
        if (event.recordedAt >= options.before) {
          gzip.write(chunk);
          break reading;
        }
        chunk += `${toArchiveLine(event)}\n`;
        digest.add(event.position, event.id);
        const at = event.recordedAt.toISOString();
        first ??= { position: event.position, at };
        last = { position: event.position, at };
        count++;
      }
      if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
      options.onProgress?.(count);
      after = page[page.length - 1]!.position;
    }
    gzip.end();
    await writing;
  } catch (error) {
    gzip.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
  if (!first || !last) {
    await rm(temporary, { force: true });
    return null;
  }
  const file = `export.${first.position}-${last.position}.ndjson.gz`;
  await rename(temporary, join(options.dir, file));
  const entry: ArchiveFileEntry = {
    file,
    sha256: sha.digest('hex'),
    bytes: (await stat(join(options.dir, file))).size,
    events: count,
    fromPosition: start + 1,
    toPosition: last.position + 1,
    firstPosition: first.position,
    lastPosition: last.position,
    firstRecordedAt: first.at,
    lastRecordedAt: last.at,
    eventsDigest: digest.digest(),
    source: options.source,
    archivedAt: new Date().toISOString(),
  };
  await verifyArchiveFile(options.dir, entry);
  manifest.files.push(entry);
  await writeManifest(options.dir, manifest);
  return entry;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { RecordedEvent } from '../types.js';
import { fromArchiveLine } from './format.js';

/**
 * An archive: one gzip-compressed NDJSON file per archived partition of the log (one event per
 * line, `ArchiveLine`), listed in `manifest.json` next to the files. The files are written
 * whole and verified before the partition they hold is dropped; a reader checks each file's
 * SHA-256 as it reads it.
 */
export const ARCHIVE_FORMAT = 'mm-event-archive/1';
export const MANIFEST_FILE = 'manifest.json';

export interface ArchiveFileEntry {
  /** File name, relative to the manifest's folder. */
  file: string;
  /** SHA-256 of the file's bytes (hex). */
  sha256: string;
  bytes: number;
  events: number;
  /** The partition's range of positions [from, to) and the positions of its first and last events. */
  fromPosition: number;
  toPosition: number;
  firstPosition: number;
  lastPosition: number;
  firstRecordedAt: string;
  lastRecordedAt: string;
  /** SHA-256 over "position:id\n" of every event, in order (the same digest of the database rows was compared). */
  eventsDigest: string;
  /** Where the events came from (e.g. `postgres:<schema>.events_<n>`). */
  source: string;
  archivedAt: string;
}

export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  /** In position order, contiguous from the beginning of the log: every file holds older events than the next. */
  files: ArchiveFileEntry[];
}

export class ArchiveError extends Error {
  readonly code = 'ARCHIVE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** The manifest in `dir`, or an empty one when there is none yet. */
export async function readManifest(dir: string): Promise<ArchiveManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { format: ARCHIVE_FORMAT, files: [] };
    throw error;
  }
  const manifest = JSON.parse(text) as ArchiveManifest;
  if (manifest.format !== ARCHIVE_FORMAT)
    throw new ArchiveError(`${join(dir, MANIFEST_FILE)}: unknown format ${JSON.stringify(manifest.format)}`);
  return manifest;
}

/** Writes the manifest atomically (a temporary file renamed over it). */
export async function writeManifest(dir: string, manifest: ArchiveManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  const target = join(dir, MANIFEST_FILE);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, target);
}

/** Digest of a sequence of events as the manifest records it (`eventsDigest`). */
export class EventsDigest {
  private readonly hash = createHash('sha256');
  add(position: number | string, id: string): void {
    this.hash.update(`${position}:${id}\n`);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * The events of one archive file in order. The file's SHA-256 is checked as it is read: a
 * mismatch (or a truncated file) throws once the end is reached, so a replay over a damaged
 * archive fails instead of finishing on wrong data.
 */
export async function* readArchiveFile(dir: string, entry: ArchiveFileEntry): AsyncGenerator<RecordedEvent> {
  const path = join(dir, entry.file);
  const hash = createHash('sha256');
  const raw = createReadStream(path);
  raw.on('data', (chunk) => hash.update(chunk));
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  const lines = createInterface({ input: raw.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  for await (const line of lines) {
    if (line.length === 0) continue;
    count++;
    yield fromArchiveLine(line);
  }
  const sha = hash.digest('hex');
  if (sha !== entry.sha256) throw new ArchiveError(`${path}: SHA-256 ${sha} ≠ ${entry.sha256} in the manifest`);
  if (count !== entry.events) throw new ArchiveError(`${path}: ${count} events, the manifest says ${entry.events}`);
}

/** Checks a file against its manifest entry: checksum, count, positions and the events digest. */
export async function verifyArchiveFile(dir: string, entry: ArchiveFileEntry): Promise<void> {
  const digest = new EventsDigest();
  let first: number | undefined;
  let last = -1;
  for await (const event of readArchiveFile(dir, entry)) {
    if (event.position <= last)
      throw new ArchiveError(`${entry.file}: position ${event.position} after ${last} (not in order)`);
    first ??= event.position;
    last = event.position;
    digest.add(event.position, event.id);
  }
  if (entry.events > 0 && (first !== entry.firstPosition || last !== entry.lastPosition))
    throw new ArchiveError(
      `${entry.file}: positions ${first}…${last}, the manifest says ${entry.firstPosition}…${entry.lastPosition}`,
    );
  if (digest.digest() !== entry.eventsDigest)
    throw new ArchiveError(`${entry.file}: events digest differs from the manifest`);
}

/** The folder of a manifest's files (for callers holding a path to the manifest or its folder). */
export const archiveDirOf = (path: string): string => (path.endsWith(MANIFEST_FILE) ? dirname(path) : path);

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type pg from 'pg';
import { toArchiveLine } from '../archive/format.js';
import {
  ArchiveError,
  type ArchiveFileEntry,
  EventsDigest,
  readManifest,
  verifyArchiveFile,
  writeManifest,
} from '../archive/manifest.js';
import { DataCodec } from './data-codec.js';
import { EventNames, type EventRow, prepareRows, toEvent } from './rows.js';
import { EVENT_COLUMNS, POSITION_SHIFT, quoteIdentifier } from './sql.js';

export interface EventPartition {
  name: string;
  fromPosition: number;
  toPosition: number;
  archivedAt: Date | null;
}

/** The partitions of the log in position order (archived ones included, as recorded in `event_partitions`). */
export async function listEventPartitions(db: pg.Pool, schema: string): Promise<EventPartition[]> {
  const { rows } = await db.query<{
    name: string;
    from_position: string;
    to_position: string;
    archived_at: Date | null;
  }>(
    `SELECT name, from_position, to_position, archived_at FROM ${quoteIdentifier(schema)}.event_partitions ORDER BY from_position`,
  );
  return rows.map((r) => ({
    name: r.name,
    fromPosition: Number(r.from_position),
    toPosition: Number(r.to_position),
    archivedAt: r.archived_at,
  }));
}

export interface ArchivePartitionsOptions {
  db: pg.Pool;
  schema: string;
  /** Partitions whose every event was recorded before this are archived. */
  before: Date;
  /** Folder of the archive (files and manifest.json). */
  dir: string;
  /** Events per read while writing. @defaultValue 5000 */
  pageSize?: number;
  /** Write and verify the files, but keep the partitions. @defaultValue false */
  keepPartitions?: boolean;
  /** Total events to write (known before writing starts) and the count written so far. */
  onProgress?: (progress: { partition: string; events: number; total: number }) => void;
}

export interface ArchivedPartition extends ArchiveFileEntry {
  partition: string;
  dropped: boolean;
}

/**
 * `mm archive`: writes the oldest partitions of the log whose events were all recorded before
 * `before` — a prefix of the log, and only partitions no running transaction can still write
 * into — each to one gzip NDJSON file, verifies each file against the database (count, order,
 * digest of positions and ids, SHA-256), adds it to the manifest, then records the last revision
 * of the player and pool streams that have no later events (appends continue after it) and
 * detaches and drops the partition, in one transaction. Stops at the first partition that does
 * not qualify (a hole would break "archives, then the live log").
 */
export async function archivePartitions(options: ArchivePartitionsOptions): Promise<ArchivedPartition[]> {
  const { db, schema } = options;
  const s = quoteIdentifier(schema);
  const pageSize = options.pageSize ?? 5000;
  // reads only: decodes compressed data with the dictionaries the rows name
  const codec = new DataCodec(db, schema, false);
  const names = new EventNames(db, schema);
  const manifest = await readManifest(options.dir);
  const { rows: horizonRows } = await db.query<{ horizon: string }>(
    `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint * ${POSITION_SHIFT} AS horizon`,
  );
  const horizon = Number(horizonRows[0]!.horizon);
  const candidates: { partition: EventPartition; events: number; last: Date | null }[] = [];
  for (const partition of await listEventPartitions(db, schema)) {
    if (partition.archivedAt) continue;
    if (partition.toPosition > horizon) break; // a running or future transaction can still write here
    const { rows } = await db.query<{ n: string; last: Date | null }>(
      `SELECT count(*) AS n, max(recorded_at) AS last FROM ${s}.${quoteIdentifier(partition.name)}`,
    );
    const last = rows[0]!.last;
    if (last !== null && last >= options.before) break;
    candidates.push({ partition, events: Number(rows[0]!.n), last });
  }
  const total = candidates.reduce((n, c) => n + c.events, 0);
  let written = 0;
  const done: ArchivedPartition[] = [];
  await mkdir(options.dir, { recursive: true });

  for (const { partition } of candidates) {
    const table = `${s}.${quoteIdentifier(partition.name)}`;
    const file = `${schema}.${partition.name}.ndjson.gz`;
    const path = join(options.dir, file);
    const temporary = `${path}.${process.pid}.tmp`;
    const digest = new EventsDigest();
    let count = 0;
    let firstPosition = -1;
    let lastPosition = -1;
    let firstRecordedAt = '';
    let lastRecordedAt = '';
    const sha = createHash('sha256');
    const gzip = createGzip({ level: 9 });
    const out = createWriteStream(temporary);
    gzip.on('data', (chunk: Buffer) => sha.update(chunk));
    const writing = pipeline(gzip, out);
    try {
      let after = -1;
      for (;;) {
        const { rows } = await db.query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM ${table} e WHERE e.position > $1 ORDER BY e.position LIMIT $2`,
          [after, pageSize],
        );
        if (rows.length === 0) break;
        await prepareRows(codec, names, rows);
        let chunk = '';
        for (const row of rows) {
          const event = toEvent(row, codec, names);
          chunk += `${toArchiveLine(event)}\n`;
          digest.add(event.position, event.id);
          if (count === 0) {
            firstPosition = event.position;
            firstRecordedAt = event.recordedAt.toISOString();
          }
          count++;
          lastPosition = event.position;
          lastRecordedAt = event.recordedAt.toISOString();
        }
        if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
        written += rows.length;
        options.onProgress?.({ partition: partition.name, events: written, total });
        after = Number(rows[rows.length - 1]!.position);
      }
      gzip.end();
      await writing;
      await rename(temporary, path);
    } catch (error) {
      gzip.destroy();
      await rm(temporary, { force: true });
      throw error;
    }

    const entry: ArchiveFileEntry = {
      file,
      sha256: sha.digest('hex'),
      bytes: (await stat(path)).size,
      events: count,
      fromPosition: partition.fromPosition,
      toPosition: partition.toPosition,
      firstPosition,
      lastPosition,
      firstRecordedAt,
      lastRecordedAt,
      eventsDigest: digest.digest(),
      source: `postgres:${schema}.${partition.name}`,
      archivedAt: new Date().toISOString(),
    };
    // Verify what is on disk against what the database holds, before anything is dropped.
    await verifyArchiveFile(options.dir, entry);
    const again = new EventsDigest();
    const { rows: check } = await db.query<{ position: string; id: string }>(
      `SELECT position, id FROM ${table} ORDER BY position`,
    );
    for (const row of check) again.add(row.position, row.id);
    if (check.length !== count || again.digest() !== entry.eventsDigest)
      throw new ArchiveError(`${partition.name}: the archive file differs from the partition; nothing dropped`);
    const previous = manifest.files[manifest.files.length - 1];
    if (previous && previous.toPosition > entry.fromPosition)
      throw new ArchiveError(`${partition.name}: starts before the end of the archive's last file ${previous.file}`);
    manifest.files.push(entry);
    await writeManifest(options.dir, manifest);

    let dropped = false;
    if (!options.keepPartitions) {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '5s'`);
        // Streams that may be appended to again keep their revision once no event of theirs is left.
        await client.query(
          `INSERT INTO ${s}.archived_streams (stream_name, revision)
           SELECT ${s}.event_stream_name(c.name, p.stream_key, p.stream_uuid), max(p.revision)
             FROM ${table} p JOIN ${s}.event_categories c ON c.id = p.category_id
            WHERE c.name IN ('player', 'pool')
              AND NOT EXISTS (SELECT 1 FROM ${s}.events e
                               WHERE ${s}.event_stream_hash(e.category_id, e.stream_key, e.stream_uuid)
                                     = ${s}.event_stream_hash(p.category_id, p.stream_key, p.stream_uuid)
                                 AND e.category_id = p.category_id AND e.stream_key IS NOT DISTINCT FROM p.stream_key
                                 AND e.stream_uuid IS NOT DISTINCT FROM p.stream_uuid AND e.position >= $1)
            GROUP BY c.name, p.stream_key, p.stream_uuid
           ON CONFLICT (stream_name) DO UPDATE SET revision = GREATEST(${s}.archived_streams.revision, EXCLUDED.revision)`,
          [partition.toPosition],
        );
        await client.query(
          `UPDATE ${s}.event_partitions SET archived_at = now(), archive_file = $2, archive_sha256 = $3, events = $4,
             first_recorded_at = $5, last_recorded_at = $6 WHERE name = $1`,
          [partition.name, file, entry.sha256, count, firstRecordedAt || null, lastRecordedAt || null],
        );
        await client.query(`ALTER TABLE ${s}.events DETACH PARTITION ${table}`);
        await client.query(`DROP TABLE ${table}`);
        await client.query('COMMIT');
        dropped = true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }
    done.push({ ...entry, partition: partition.name, dropped });
  }
  return done;
}

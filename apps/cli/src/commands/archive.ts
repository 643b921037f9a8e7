import { join } from 'node:path';
import { exportArchive } from '@mm/event-store/archive';
import { archivePartitions, listEventPartitions } from '@mm/event-store/postgres';
import { parseTime } from '@mm/replay';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { createOutput } from '../output.js';
import { createProgress } from '../progress.js';

type Run = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function registerArchive(program: Command, run: Run): void {
  program
    .command('archive')
    .description(
      'move whole old partitions of the event log to compressed, checksummed files (gzip NDJSON + manifest), verify them, then drop the partitions; rebuild, audit, explain and history read the archive before the live log',
    )
    .requiredOption('--before <time>', 'archive the partitions whose every event was recorded before this ISO time')
    .option('--dir <path>', 'the archive folder (default: EVENT_ARCHIVE_DIR)')
    .option('--keep-partitions', 'write and verify the files, keep the partitions (a dry run of the drop)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Only a prefix of the log is archived: the oldest partitions, up to the first one that holds an event
recorded at or after --before (or that a running transaction can still write into). Each file is
verified against the database (count, order, digest of positions and ids, SHA-256) before its
partition is dropped. The archive folder must be kept (and backed up): it is the log's history.
Exit codes: 0 done (also when nothing was old enough), 2 bad input or could not run.
On EventStoreDB (no partitions) the log up to --before is exported in the same format and kept in the
store: remove it there with stream metadata and a scavenge (root README, "Storage and retention").
Configuration: EVENT_STORE_URL, EVENT_STORE_SCHEMA (PostgreSQL), EVENT_ARCHIVE_DIR.
Example: pnpm mm archive --before 2026-11-01T00:00:00Z`,
    )
    .action((opts: { before: string; dir?: string; keepPartitions?: boolean; json?: boolean }) =>
      run(async (ctx) => {
        const before = parseTime(opts.before, '--before');
        if (before.getTime() > Date.now())
          throw new UsageError(`--before ${opts.before} is in the future`, 'give a time in the past');
        const db = ctx.eventStoreDb();
        const dir = opts.dir ?? ctx.config.EVENT_ARCHIVE_DIR;
        const schema = ctx.config.EVENT_STORE_SCHEMA;
        const store = await ctx.store(); // checks that the event store exists (one line and exit 2 when not)
        const out = createOutput(Boolean(opts.json));
        const progress = createProgress('archive');
        if (!db) {
          // EventStoreDB (no partitions to drop): the same archive format; the store keeps the
          // events until stream metadata and a scavenge let them go (README "Storage and retention").
          const entry = await exportArchive({
            store,
            before,
            dir,
            source: 'event-store:$all',
            onProgress: (events) => progress.update(events, 0),
          });
          progress.stop();
          out.result(
            () =>
              entry
                ? `exported ${entry.events} events (${kb(entry.bytes)}) recorded ${entry.firstRecordedAt} … ${entry.lastRecordedAt} → ${join(dir, entry.file)}; the store keeps them until scavenged`
                : `nothing to archive: no event after the archive's last one was recorded before ${before.toISOString()}`,
            () => ({ dir, exported: entry }),
          );
          return EXIT_OK;
        }
        const archived = await archivePartitions({
          db,
          schema,
          before,
          dir,
          keepPartitions: Boolean(opts.keepPartitions),
          onProgress: (p) => {
            progress.total(p.total);
            progress.update(p.events, 0);
          },
        });
        progress.stop();
        const partitions = await listEventPartitions(db, schema);
        const live = partitions.filter((p) => !p.archivedAt).length;
        out.result(
          () => {
            if (archived.length === 0)
              return `nothing to archive: no partition of ${schema}.events holds only events recorded before ${before.toISOString()} (${live} live partitions)`;
            const lines = archived.map(
              (a) =>
                `${a.dropped ? 'archived' : 'written '} ${a.partition.padEnd(22)} ${String(a.events).padStart(9)} events  ${kb(a.bytes).padStart(12)}  ${a.events > 0 ? `${(a.bytes / a.events).toFixed(0)} B/event` : ''}  ${a.firstRecordedAt || '-'} … ${a.lastRecordedAt || '-'}  → ${a.file}`,
            );
            const events = archived.reduce((n, a) => n + a.events, 0);
            const bytes = archived.reduce((n, a) => n + a.bytes, 0);
            lines.push(
              `${archived.length} partitions, ${events} events, ${kb(bytes)} in ${dir}; ${live} live partitions${opts.keepPartitions ? ' (partitions kept: --keep-partitions)' : ''}`,
            );
            return lines.join('\n');
          },
          () => ({ dir, archived, livePartitions: live }),
        );
        return EXIT_OK;
      }),
    );
}

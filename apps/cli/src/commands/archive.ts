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
Configuration: EVENT_STORE_URL (PostgreSQL), EVENT_STORE_SCHEMA, EVENT_ARCHIVE_DIR.
Example: pnpm mm archive --before 2026-11-01T00:00:00Z`,
    )
    .action((opts: { before: string; dir?: string; keepPartitions?: boolean; json?: boolean }) =>
      run(async (ctx) => {
        const before = parseTime(opts.before, '--before');
        if (before.getTime() > Date.now())
          throw new UsageError(`--before ${opts.before} is in the future`, 'give a time in the past');
        const db = ctx.eventStoreDb();
        if (!db)
          throw new UsageError(
            'mm archive needs the PostgreSQL event store (EVENT_STORE_URL = DATABASE_URL)',
            'on EventStoreDB use scavenging and the archiver (README "Storage and retention")',
          );
        const dir = opts.dir ?? ctx.config.EVENT_ARCHIVE_DIR;
        const schema = ctx.config.EVENT_STORE_SCHEMA;
        await ctx.store(); // checks that the event store exists (one line and exit 2 when not)
        const out = createOutput(Boolean(opts.json));
        const progress = createProgress('archive');
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

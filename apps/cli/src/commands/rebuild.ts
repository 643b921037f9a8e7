import {
  BULK_BATCH,
  compareQueueViews,
  countLogEvents,
  describeBound,
  type LogBound,
  parseLogBound,
  readModelCheckpoint,
  rebuildQueueViews,
  rebuildReadModels,
  swapReadModels,
} from '@mm/replay';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_CANNOT_RUN, EXIT_FINDING, EXIT_OK, UsageError } from '../errors.js';
import { createOutput } from '../output.js';
import { createProgress } from '../progress.js';

type Run = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

const rate = (events: number, ms: number) => (ms > 0 ? Math.round((events / ms) * 1000) : 0);

export function registerRebuild(program: Command, run: Run): void {
  const rebuild = program
    .command('rebuild')
    .description('rebuild projections from the log (read models in PostgreSQL, queue views in Redis)');

  rebuild
    .command('read-models')
    .description(
      'replay the log from position 0 into a fresh PostgreSQL schema (blue/green) while the live projector runs; resumable; --swap makes it the live read models',
    )
    .option(
      '--into <schema>',
      'schema to build into (default: <READ_MODEL_SCHEMA>_rebuild); resumed if it has a checkpoint',
    )
    .option(
      '--to <position|time>',
      'stop at this log position, or after the last event recorded at or before this ISO time: the read models as they were then',
    )
    .option('--swap', 'then switch the live read models to it atomically (the old schema is kept as <live>_old_<time>)')
    .option('--batch <n>', 'events per transaction (each folded in memory and written with COPY)', String(BULK_BATCH))
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 2 could not run (or interrupted: run the same command again to resume).
Configuration: DATABASE_URL, READ_MODEL_SCHEMA, EVENT_STORE_URL, EVENT_STORE_SCHEMA.
Examples:
  pnpm mm rebuild read-models --into read_models_b
  pnpm mm rebuild read-models --into read_models_past --to 2026-11-29T10:00:00Z
  pnpm mm rebuild read-models --into read_models_b --swap`,
    )
    .action((opts: { into?: string; to?: string; swap?: boolean; batch: string; json?: boolean }) =>
      run(async (ctx) => {
        const out = createOutput(Boolean(opts.json));
        const live = ctx.config.READ_MODEL_SCHEMA;
        const into = opts.into ?? `${live}_rebuild`;
        const to: LogBound | undefined = opts.to ? parseLogBound(opts.to) : undefined;
        if (opts.swap && to)
          throw new UsageError(
            '--swap and --to do not go together',
            'a swapped-in schema follows the live log; leave --to out',
          );
        if (into === live)
          throw new UsageError(`--into ${into} is the live schema`, 'rebuild into another schema, then --swap');
        const batchSize = Number(opts.batch);
        if (!Number.isInteger(batchSize) || batchSize < 1)
          throw new UsageError(`--batch ${opts.batch}`, 'give a positive number');
        const db = ctx.db();
        const store = await ctx.store();
        const progress = createProgress(`rebuild ${into}`);
        const sizeDb = ctx.eventStoreDb();
        let stop = false;
        const onSignal = () => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const resumable = await db
            .query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [into])
            .then((r) => r.rows.length > 0);
          const from = resumable ? await readModelCheckpoint(db, into).catch(() => -1) : -1;
          if (sizeDb)
            progress.total(
              await countLogEvents(sizeDb, ctx.config.EVENT_STORE_SCHEMA, { after: from, ...(to ? { to } : {}) }),
            );
          const result = await rebuildReadModels({
            db,
            store,
            schema: into,
            batchSize,
            ...(to ? { to } : {}),
            onProgress: (p) => progress.update(p.events, p.position),
            shouldStop: () => stop,
          });
          progress.stop();
          if (result.interrupted) {
            out.note(
              `mm: interrupted at position ${result.position} (${result.events} events applied into ${into}) — run the same command again to resume`,
            );
            return EXIT_CANNOT_RUN;
          }
          let swap: Awaited<ReturnType<typeof swapReadModels>> | undefined;
          if (opts.swap) {
            out.note(`swapping ${into} in as ${live}…`);
            swap = await swapReadModels({ db, store, live, rebuilt: into });
          }
          out.result(
            () =>
              [
                `rebuilt read models in ${into}: ${result.events} events in ${result.ms} ms (${rate(result.events, result.ms)} events/s)` +
                  `${result.resumedFrom >= 0 ? `, resumed from ${result.resumedFrom}` : ''}; checkpoint ${result.position}${to ? ` (up to ${describeBound(to)})` : ''}`,
                ...(result.phases
                  ? [
                      `  first page at ${result.phases.firstPageMs} ms, log folded at ${result.phases.foldMs} ms, then the last write ${result.phases.lastWriteMs} ms and the index builds ${result.phases.indexBuildMs} ms`,
                    ]
                  : []),
                ...(swap
                  ? [
                      `swapped: ${live} is now the rebuilt schema (checkpoint ${swap.position}, ${swap.caughtUpInLock} events caught up under the lock, locked ${swap.lockedMs} ms, attempt ${swap.attempts}); the old one is ${swap.oldSchema}`,
                      `compare them with: pnpm mm diff read-models ${live} ${swap.oldSchema}`,
                    ]
                  : []),
              ].join('\n'),
            () => ({ ...result, eventsPerSecond: rate(result.events, result.ms), ...(swap ? { swap } : {}) }),
          );
          return EXIT_OK;
        } finally {
          progress.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );

  rebuild
    .command('queue-views')
    .description(
      'replay the log into the Redis queue views under another prefix (no pairing job is signalled for it); resumable; --compare checks them against the live views',
    )
    .option('--prefix <prefix>', 'Redis prefix to build into (default: <REDIS_PREFIX>-rebuild)')
    .option('--to <position>', 'stop at this log position')
    .option('--compare', 'compare with the live views at the live checkpoint (exit 1 on a difference)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Exit codes: 0 done (and equal with --compare), 1 differences, 2 could not run.
Configuration: REDIS_URL, REDIS_PREFIX, EVENT_STORE_URL, EVENT_STORE_SCHEMA.`,
    )
    .action((opts: { prefix?: string; to?: string; compare?: boolean; json?: boolean }) =>
      run(async (ctx) => {
        const out = createOutput(Boolean(opts.json));
        const livePrefix = ctx.config.REDIS_PREFIX;
        const prefix = opts.prefix ?? `${livePrefix}-rebuild`;
        let to: number | undefined;
        if (opts.to !== undefined) {
          const bound = parseLogBound(opts.to);
          if (!('position' in bound))
            throw new UsageError('--to takes a log position here', 'give the digits of a position');
          to = bound.position;
        }
        const redis = ctx.redis();
        const store = await ctx.store();
        const progress = createProgress(`rebuild ${prefix}`);
        const sizeDb = ctx.eventStoreDb();
        if (sizeDb)
          progress.total(
            await countLogEvents(
              sizeDb,
              ctx.config.EVENT_STORE_SCHEMA,
              to === undefined ? {} : { to: { position: to } },
            ),
          );
        try {
          const result = await rebuildQueueViews({
            redis,
            store,
            prefix,
            livePrefix,
            ...(to === undefined ? {} : { to }),
            onProgress: (p) => progress.update(p.events, p.position),
          });
          progress.stop();
          const comparison = opts.compare ? await compareQueueViews({ redis, store, prefix, livePrefix }) : undefined;
          out.result(
            () =>
              [
                `rebuilt queue views under ${prefix}: ${result.events} events in ${result.ms} ms (${rate(result.events, result.ms)} events/s); checkpoint ${result.position}; ${result.keys} keys`,
                ...(comparison
                  ? [
                      comparison.differences.length === 0
                        ? `same as the live views under ${livePrefix} at position ${comparison.position}`
                        : `DIFF: ${comparison.differences.length} key(s) differ from the live views under ${livePrefix} at position ${comparison.position}${comparison.moving ? ' (the live views kept moving: compare when the service is idle)' : ''}`,
                      ...comparison.differences
                        .slice(0, 10)
                        .map(
                          (d) => `  ${d.key}: live ${JSON.stringify(d.actual)} / rebuilt ${JSON.stringify(d.expected)}`,
                        ),
                    ]
                  : []),
              ].join('\n'),
            () => ({ ...result, ...(comparison ? { comparison } : {}) }),
          );
          return comparison && comparison.differences.length > 0 ? EXIT_FINDING : EXIT_OK;
        } finally {
          progress.stop();
        }
      }),
    );
}

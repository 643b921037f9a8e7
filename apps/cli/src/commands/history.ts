import { formatPlayerHistory, formatPoolAsOf, parseTime, playerHistory, poolAsOf } from '@mm/replay';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { createOutput } from '../output.js';
import { createProgress } from '../progress.js';

type Run = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

export function registerHistory(program: Command, run: Run): void {
  const history = program.command('history').description('what happened to something, from the log');
  history
    .command('player')
    .description("a player's event history in words: their stream and the matches they were in, in log order")
    .argument('<tenant>', 'tenant id')
    .argument('<user>', 'user id')
    .option('--json', 'print the history as one JSON object')
    .addHelpText('after', '\nExit codes: 0 printed, 2 unknown player or could not run.')
    .action((tenant: string, user: string, opts: { json?: boolean }) =>
      run(async (ctx) => {
        const result = await playerHistory(await ctx.store(), tenant, user);
        createOutput(Boolean(opts.json)).result(
          () => formatPlayerHistory(result),
          () => result,
        );
        return EXIT_OK;
      }),
    );

  program
    .command('as-of')
    .description("a pool's searching entries as they were at a time, folded from the log")
    .argument('<time>', 'ISO time, e.g. 2026-11-29T10:00:00Z')
    .argument('<what>', 'pool')
    .argument('<time_control>', 'e.g. 3+0')
    .argument('<mode>', 'rated or casual')
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)')
    .option('--json', 'print the entries as one JSON object')
    .addHelpText(
      'after',
      '\nExample: pnpm mm as-of 2026-11-29T10:00:00Z pool 3+0 rated --tenant tenant-1\nExit codes: 0 printed, 2 bad input or could not run.',
    )
    .action(
      (time: string, what: string, timeControl: string, mode: string, opts: { tenant?: string; json?: boolean }) =>
        run(async (ctx) => {
          if (what !== 'pool')
            throw new UsageError(`as-of ${what}: only "pool" is known`, 'mm as-of <time> pool <time_control> <mode>');
          const at = parseTime(time, 'time');
          const progress = createProgress('as-of');
          const result = await poolAsOf({
            store: await ctx.store(),
            time: at,
            timeControl,
            mode,
            ...(opts.tenant ? { tenantId: opts.tenant } : {}),
            onProgress: (p) => progress.update(p.events, p.position),
          });
          progress.stop();
          createOutput(Boolean(opts.json)).result(
            () => formatPoolAsOf(result),
            () => result,
          );
          return EXIT_OK;
        }),
    );
}

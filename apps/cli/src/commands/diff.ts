import { diffReadModels, formatReadModelDiff } from '@mm/replay';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_FINDING, EXIT_OK, UsageError } from '../errors.js';
import { createOutput } from '../output.js';

type Run = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

export function registerDiff(program: Command, run: Run): void {
  const diff = program.command('diff').description('compare two builds of a projection');
  diff
    .command('read-models')
    .description(
      'row-level comparison of every read-model table of two schemas in one snapshot (bookkeeping columns left out, as declared in packages/projections)',
    )
    .argument('<schemaA>', 'e.g. read_models (the live one)')
    .argument('<schemaB>', 'e.g. read_models_old_20261129100000')
    .option('--limit <n>', 'differing rows shown per table', '5')
    .option('--json', 'print the comparison as one JSON object')
    .addHelpText('after', '\nExit codes: 0 equal, 1 differences, 2 could not run (unknown schema, …).')
    .action((schemaA: string, schemaB: string, opts: { limit: string; json?: boolean }) =>
      run(async (ctx) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit ${opts.limit}`, 'give a number ≥ 0');
        const result = await diffReadModels(ctx.db(), schemaA, schemaB, { limit });
        createOutput(Boolean(opts.json)).result(
          () => formatReadModelDiff(result),
          () => result,
        );
        return result.differing > 0 ? EXIT_FINDING : EXIT_OK;
      }),
    );
}

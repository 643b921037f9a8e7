import { explainMatch, formatMatchExplanation } from '@mm/replay';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_FINDING, EXIT_OK } from '../errors.js';
import { createOutput } from '../output.js';

type Run = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

export function registerExplain(program: Command, run: Run): void {
  const explain = program
    .command('explain')
    .description('why a decision was made, from the log, and whether it is made again');
  explain
    .command('match')
    .description(
      "a match's decision in words (both entries, their windows, the gap, the waits, the pass's other candidates and why they lost), then the pairing re-run on the pass's recorded input",
    )
    .argument('<matchId>', 'the match id (MatchCreated.matchId)')
    .option('--json', 'print the explanation as one JSON object')
    .addHelpText(
      'after',
      `
Exit codes: 0 the re-run makes the same pairs (or no re-run is possible: a challenge match, or one
decided before passes were recorded — the output says so), 1 the re-run differs (each difference
printed), 2 unknown match id or could not run.`,
    )
    .action((matchId: string, opts: { json?: boolean }) =>
      run(async (ctx) => {
        const explanation = await explainMatch(await ctx.store(), matchId);
        createOutput(Boolean(opts.json)).result(
          () => formatMatchExplanation(explanation),
          () => explanation,
        );
        return explanation.rerun.status === 'different' ? EXIT_FINDING : EXIT_OK;
      }),
    );
}

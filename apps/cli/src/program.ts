import { Command } from 'commander';
import { registerArchive } from './commands/archive.js';
import { registerAudit } from './commands/audit.js';
import { registerDiff } from './commands/diff.js';
import { registerExplain } from './commands/explain.js';
import { registerHistory } from './commands/history.js';
import { registerRebuild } from './commands/rebuild.js';
import type { CliContext } from './context.js';

export type CommandRunner = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

/** The `mm` program: every command parses its arguments, calls a package, and prints. */
export function buildProgram(run: CommandRunner): Command {
  const program = new Command('mm')
    .description(
      'operator CLI of the matchmaking service: rebuild and compare projections, audit the log, look into the past',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 a finding (violations, differences), 2 could not run (one line on stderr says why).
Configuration: the service's environment variables (DATABASE_URL, EVENT_STORE_URL, EVENT_STORE_SCHEMA,
READ_MODEL_SCHEMA, REDIS_URL, REDIS_PREFIX, EVENT_ARCHIVE_DIR, …). A progress bar shows on stderr when stdout and stderr are terminals.`,
    );
  // Before the commands are added, so each inherits them: a parse error is exit 2, not 1.
  program.exitOverride();
  program.configureOutput({ outputError: (text, write) => write(text) });
  registerRebuild(program, run);
  registerDiff(program, run);
  registerAudit(program, run);
  registerHistory(program, run);
  registerExplain(program, run);
  registerArchive(program, run);
  return program;
}

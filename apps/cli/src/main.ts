import { CommanderError } from 'commander';
import { CliContext } from './context.js';
import { describeFailure, EXIT_CANNOT_RUN } from './errors.js';
import { buildProgram } from './program.js';

/**
 * `pnpm mm <command>`: runs one command and exits 0 (ok), 1 (a finding) or 2 (could not run:
 * one line on stderr saying what to do next, never a stack trace unless MM_DEBUG is set).
 */
async function main(argv: string[]): Promise<number> {
  let code = 0;
  let context: CliContext | undefined;
  const program = buildProgram(async (action) => {
    context = new CliContext();
    code = await action(context);
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError)
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? 0
        : EXIT_CANNOT_RUN;
    process.stderr.write(`mm: ${describeFailure(error)}\n`);
    if (process.env.MM_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT_CANNOT_RUN;
  } finally {
    await context?.close();
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`mm: ${describeFailure(error)}\n`);
    process.exit(EXIT_CANNOT_RUN);
  },
);

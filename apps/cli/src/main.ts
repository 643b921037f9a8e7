import { AUDIT_HEAP_MB, runUnderHeapCap } from '@mm/audit';
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

/**
 * `mm audit` runs under a V8 heap cap (`--max-memory-mb`, default {@link AUDIT_HEAP_MB}; 768 with
 * --read-models, whose rebuild keeps rows in memory; 0: none): the command is run again in a
 * child process with the cap, so its memory stays near the audit's live state instead of growing
 * with V8's slack. Null: run here (another command, help, or this is the capped child).
 */
async function capped(argv: string[]): Promise<number | null> {
  if (argv[2] !== 'audit' || argv.includes('--help') || argv.includes('-h')) return null;
  const at = argv.findIndex((a) => a === '--max-memory-mb' || a.startsWith('--max-memory-mb='));
  const given = at < 0 ? undefined : argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1];
  const mb = given === undefined ? (argv.includes('--read-models') ? 768 : AUDIT_HEAP_MB) : Number(given);
  if (!Number.isFinite(mb) || mb < 0) return null; // the command's own parsing reports it
  const run = await runUnderHeapCap(mb);
  if (!run) return null;
  if (run.outOfMemory)
    process.stderr.write(
      `mm: the audit needed more memory than its cap of ${mb} MB — run it again with --max-memory-mb ${mb * 2} (or 0 for no cap)\n`,
    );
  return run.code;
}

capped(process.argv)
  .then((code) => code ?? main(process.argv))
  .then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`mm: ${describeFailure(error)}\n`);
      process.exit(EXIT_CANNOT_RUN);
    },
  );

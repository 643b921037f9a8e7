import { spawn } from 'node:child_process';

/**
 * The V8 old-space cap `mm audit` runs under by default (MB). The streaming audit's live state
 * after 1,000,000 events is ≈ 80 MB; without a cap V8 lets the heap grow far beyond what is
 * live between major collections (425 MB of RSS for that log), with this one the process stays
 * near 230 MB. A log whose state needs more stops with a clear error (see {@link runUnderHeapCap}).
 */
export const AUDIT_HEAP_MB = 192;

const MARK = 'MM_HEAP_CAP_MB';
const SEMI_SPACE_MB = 8;

/** The cap this process was started under by {@link runUnderHeapCap} (undefined: none). */
export const heapCapOfThisProcess = (): number | undefined =>
  process.env[MARK] ? Number(process.env[MARK]) : undefined;

export interface CappedRun {
  /** The capped run's exit code (2 when it ran out of memory or was killed). */
  code: number;
  /** V8 stopped it: its heap needed more than the cap. */
  outOfMemory: boolean;
}

/**
 * Runs this same command again in a child process whose V8 old space is capped at `maxMb`
 * (`--max-old-space-size`), with the terminal passed through, and resolves with how it ended.
 * Resolves null when there is nothing to do: `maxMb` is 0 (no cap), or this process is that
 * child already — then the caller just goes on. SIGINT reaches both processes from the terminal
 * (this one waits for the child); SIGTERM is passed on.
 */
export function runUnderHeapCap(maxMb: number): Promise<CappedRun | null> {
  if (!(maxMb > 0) || process.env[MARK]) return Promise.resolve(null);
  const args = [
    ...process.execArgv.filter((a) => !/^--max-(old|semi)-space-size/.test(a)),
    `--max-old-space-size=${Math.round(maxMb)}`,
    // The young generation is outside that cap, and V8 sizes it by the machine's memory (up to
    // 64 MB a semi-space): kept small, short-lived page objects are collected young.
    `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ...process.argv.slice(1),
  ];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, [MARK]: String(maxMb) } });
  const onInt = () => undefined;
  const onTerm = () => child.kill('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      // V8 aborts a process whose heap cannot grow any more: SIGABRT (exit 134 through a shell).
      const outOfMemory = signal === 'SIGABRT' || code === 134;
      resolve({ code: outOfMemory || code === null ? 2 : code, outOfMemory });
    });
  });
}

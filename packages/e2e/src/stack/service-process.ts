import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { workspaceRoot } from '@mm/testing/build';

export { buildWorkspace } from '@mm/testing/build';

/** The repository root (apps are started from there so `--import tsx` and workspace links resolve). */
export const repoRoot = workspaceRoot;

/** How to tell that a started process is ready. */
export type Readiness =
  /** `GET <url>` answers 2xx. */
  | { url: string }
  /** A line of the process's output matches. */
  | { logLine: RegExp };

export interface ServiceSpec {
  /** Name of the process and of its log file. */
  name: string;
  /** Entry point relative to the repo root, e.g. `apps/api/src/main.ts`. */
  script: string;
  env: Record<string, string>;
  readiness: Readiness;
  logFile: string;
  /** @defaultValue 60000 (cold `tsx` starts on a busy 2-core machine are slow) */
  readyTimeoutMs?: number;
  /**
   * Run the compiled JavaScript (`apps/<app>/dist/src/main.js`, workspace packages from their
   * `dist/`, as in the production images) instead of the TypeScript sources through `tsx`.
   * Build first ({@link buildWorkspace}). @defaultValue false
   */
  compiled?: boolean;
}

/** `apps/api/src/main.ts` → `apps/api/dist/src/main.js`. */
export const compiledScript = (script: string): string =>
  script.replace(/(^|\/)src\//, '$1dist/src/').replace(/\.ts$/, '.js');

export class ServiceStartError extends Error {
  readonly code = 'SERVICE_START_FAILED';
  constructor(
    readonly service: string,
    message: string,
    readonly logFile: string,
  ) {
    super(`${service}: ${message} (log: ${logFile})`);
    this.name = 'ServiceStartError';
  }
}

/** One app running as its own OS process, output appended to `logFile`. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private exit: Promise<number | null> = Promise.resolve(null);
  /** Times the process was started (restarts included). */
  starts = 0;

  constructor(readonly spec: ServiceSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until it is ready; throws {@link ServiceStartError} otherwise. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fd = openSync(this.spec.logFile, 'a');
    const args = this.spec.compiled
      ? [compiledScript(this.spec.script)]
      : ['--conditions=@mm/source', '--import', 'tsx', this.spec.script];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: this.spec.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.starts++;
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? 60_000);
    const readiness = this.spec.readiness;
    const logStart = this.logSize();
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new ServiceStartError(
          this.name,
          `exited (${child.exitCode ?? child.signalCode}) before it was ready`,
          this.spec.logFile,
        );
      if ('url' in readiness) {
        const ok = await fetch(readiness.url, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
      } else if (readiness.logLine.test(this.log().slice(logStart))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new ServiceStartError(this.name, 'not ready in time', this.spec.logFile);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. Resolves with the exit code. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL now (a crash: no graceful shutdown) and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }

  /** The process's output so far. */
  log(): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * `http://127.0.0.1:<port>` of the process's ops server (/metrics, /health, /ready), from its
   * "ops server listening" log line (the stack runs them with OPS_PORT=0: a free port each);
   * waits for the line up to `timeoutMs`. The last line wins after a restart.
   */
  async opsUrl(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.log()
        .split('\n')
        .filter((l) => l.includes('"msg":"ops server listening'))
        .at(-1);
      if (line) return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      if (Date.now() > deadline)
        throw new Error(`${this.name}: no "ops server listening" line in ${this.spec.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private logSize(): number {
    return this.log().length;
  }
}

import type { ServiceProcess } from '../stack/service-process.js';

export interface SupervisedExit {
  service: string;
  /** Epoch ms when the supervisor saw the process gone. */
  at: number;
  /** Epoch ms when it was ready again (null: not yet, or the supervisor was stopped first). */
  readyAt: number | null;
}

/**
 * What runs the apps in production (systemd, Kubernetes): a loop that notices a process is
 * gone and starts it again, one start at a time per process, retrying a start that fails.
 * Every exit it notices is recorded, planned (a SIGKILL of the bench) or not.
 */
export class Supervisor {
  readonly exits: SupervisedExit[] = [];
  private readonly restarting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly services: () => ServiceProcess[],
    private readonly options: { pollMs?: number; onReady?: (exit: SupervisedExit) => void } = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.pollMs ?? 100);
  }

  /** Stops watching (before the stack is stopped, so nothing is started again) and waits for starts under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.pending);
  }

  /** The supervisor is starting `service` again (it may already run, but is not ready yet). */
  isRestarting(service: string): boolean {
    return this.restarting.has(service);
  }

  /** Exits seen for `service` (by name), or for all. */
  exitCount(service?: string): number {
    return service === undefined ? this.exits.length : this.exits.filter((e) => e.service === service).length;
  }

  private check(): void {
    for (const service of this.services()) {
      if (service.running || this.restarting.has(service.name)) continue;
      this.restarting.add(service.name);
      const exit: SupervisedExit = { service: service.name, at: Date.now(), readyAt: null };
      this.exits.push(exit);
      const task = (async () => {
        for (let attempt = 0; this.timer !== null; attempt++) {
          try {
            await service.start();
            exit.readyAt = Date.now();
            this.options.onReady?.(exit);
            return;
          } catch {
            // Exited before it was ready (e.g. its database was away): try again shortly.
            await new Promise((r) => setTimeout(r, Math.min(2000, 200 * (attempt + 1))));
          }
        }
      })().finally(() => {
        this.restarting.delete(service.name);
        this.pending.delete(task);
      });
      this.pending.add(task);
    }
  }
}

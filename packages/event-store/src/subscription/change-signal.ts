/**
 * Wakes subscriptions when the log may have changed. A version counter instead of a bare
 * event: a subscriber reads `version` before it queries, and `wait(seen, …)` returns at once
 * if a change arrived in between, so a notification is never lost between query and sleep.
 */
export class ChangeSignal {
  #version = 0;
  readonly #waiters = new Set<() => void>();

  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next change after `seenVersion`, after `timeoutMs`, or when `abort` fires. */
  wait(seenVersion: number, timeoutMs: number, abort: AbortSignal): Promise<void> {
    if (this.#version !== seenVersion || abort.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        abort.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      abort.addEventListener('abort', done, { once: true });
    });
  }
}

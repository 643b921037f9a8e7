import pg from 'pg';
import type { ChangeSignal } from '../subscription/change-signal.js';
import { NOTIFY_CHANNEL, quoteIdentifier } from './sql.js';

/**
 * One LISTEN connection per store, shared by its subscriptions. Reconnects with backoff when
 * the connection drops, and signals a change after every (re)connect, because notifications
 * sent while it was down are gone — subscriptions re-read and lose nothing.
 */
export class ChangeListener {
  #client: pg.Client | undefined;
  #stopped = false;
  #connecting: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly schema: string,
    private readonly changes: ChangeSignal,
  ) {}

  /** Starts listening (idempotent). Resolves once LISTEN is active, or after a first failed attempt (retries continue). */
  start(): Promise<void> {
    if (this.#client || this.#stopped) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (message) => {
      if (message.channel === NOTIFY_CHANNEL && message.payload === this.schema) this.changes.notify();
    });
    client.on('error', () => this.#dropped(client));
    client.on('end', () => this.#dropped(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(NOTIFY_CHANNEL)}`);
      if (this.#stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      this.#failures = 0;
      this.changes.notify();
    } catch {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.#scheduleRetry();
    }
  }

  #dropped(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retryTimer) return;
    const delay = Math.min(5000, 100 * 2 ** this.#failures++);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.start();
    }, delay);
    // Subscriptions keep polling meanwhile; the timer alone must not keep the process alive.
    this.#retryTimer.unref();
  }

  /** Terminates the LISTEN connection for a test of the reconnect path. */
  async dropConnectionForTest(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    // Simulate a network failure: destroy the socket under the client.
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }

  get listening(): boolean {
    return this.#client !== undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

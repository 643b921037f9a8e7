import { Worker } from 'node:worker_threads';
import type { PairingConfig } from '../config.js';
import { type PairingResult, pairPool } from '../pair-pool.js';
import type { PoolEntry } from '../pool/pool-entry.js';

export interface PairRequest {
  id: number;
  entries: readonly PoolEntry[];
  now: number;
  config: PairingConfig;
}

export type PairResponse = { id: number; result: PairingResult } | { id: number; error: string };

/** Pools smaller than this are paired inline (a thread round trip costs more than the pass). */
export const INLINE_POOL_LIMIT = 2000;

/**
 * A worker thread that runs `pairPool`, so a pass over a large pool never blocks the caller's
 * event loop (lock renewals, health checks and other pools go on while it runs). Passes are
 * queued in order; the thread is unref'd while idle, so it never keeps a process alive.
 */
export class PairingThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: PairingResult) => void; reject: (e: Error) => void; entries: readonly PoolEntry[] }
  >();

  private start(): Worker {
    if (this.worker) return this.worker;
    // From the TypeScript sources the worker is a .ts module, started through tsx's loader.
    const worker = import.meta.url.endsWith('.ts')
      ? new Worker(new URL('./ts-worker.mjs', import.meta.url), {
          workerData: { entry: new URL('./pair-worker.ts', import.meta.url).href },
        })
      : new Worker(new URL('./pair-worker.js', import.meta.url));
    worker.on('message', (response: PairResponse) => this.settle(response));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.worker = null;
      if (this.pending.size > 0) this.failAll(new Error(`pairing thread exited with code ${code}`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Runs one pass in the thread; the pairs refer to the caller's entry objects. */
  pair(entries: readonly PoolEntry[], now: number, config: PairingConfig): Promise<PairingResult> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, entries });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, entries, now, config } satisfies PairRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private settle(response: PairResponse): void {
    const waiting = this.pending.get(response.id);
    if (!waiting) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in response) {
      waiting.reject(new Error(response.error));
      return;
    }
    waiting.resolve(withCallerEntries(response.result, waiting.entries));
  }

  private failAll(error: Error): void {
    for (const [, waiting] of this.pending) waiting.reject(error);
    this.pending.clear();
  }
}

/** Results cross the thread boundary as copies: point pairs and unpaired back at the caller's objects. */
function withCallerEntries(result: PairingResult, entries: readonly PoolEntry[]): PairingResult {
  const byId = new Map(entries.map((e) => [e.entryId, e]));
  const own = (e: PoolEntry): PoolEntry => byId.get(e.entryId) ?? e;
  return {
    pairs: result.pairs.map((p) => ({ ...p, a: own(p.a), b: own(p.b) })),
    unpaired: result.unpaired.map(own),
    stats: result.stats,
  };
}

let shared: PairingThread | null = null;

/**
 * `pairPool`, off the event loop for pools of at least `inlineBelow` entries (one shared thread
 * per process), inline below. Same result as `pairPool` (deterministic).
 */
export function pairPoolAsync(
  entries: readonly PoolEntry[],
  now: number,
  config: PairingConfig,
  options: { inlineBelow?: number } = {},
): Promise<PairingResult> {
  if (entries.length < (options.inlineBelow ?? INLINE_POOL_LIMIT)) {
    try {
      return Promise.resolve(pairPool(entries, now, config));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  shared ??= new PairingThread();
  return shared.pair(entries, now, config);
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { NOW, randomPool } from '../../test/pool-fixtures.js';
import { defaultPairingConfig } from '../config.js';
import { pairPool } from '../pair-pool.js';
import { PairingThread, pairPoolAsync } from './pair-pool-async.js';

const thread = new PairingThread();
afterAll(() => thread.close());

describe('pairing off the event loop', () => {
  it('gives the inline result, with the caller’s entry objects', async () => {
    const entries = randomPool(3000, 9);
    const inline = pairPool(entries, NOW, defaultPairingConfig);
    const off = await thread.pair(entries, NOW, defaultPairingConfig);
    expect(off.pairs.map((p) => [p.a.entryId, p.b.entryId])).toEqual(
      inline.pairs.map((p) => [p.a.entryId, p.b.entryId]),
    );
    expect(off.stats).toEqual(inline.stats);
    const ids = new Set(entries);
    for (const p of off.pairs) expect(ids.has(p.a) && ids.has(p.b)).toBe(true);
  }, 30_000);

  it('keeps the event loop responsive while a 30,000-entry pass runs', async () => {
    const entries = randomPool(30_000, 10);
    await thread.pair(randomPool(10, 1), NOW, defaultPairingConfig); // thread started
    const delay = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    delay.enable();
    const started = performance.now();
    const result = await thread.pair(entries, NOW, defaultPairingConfig);
    const passMs = performance.now() - started;
    delay.disable();
    clearInterval(timer);
    expect(result.pairs.length).toBeGreaterThan(10_000);
    // Inline, the loop would not turn once during the pass; here timers keep firing.
    expect(ticks).toBeGreaterThan(Math.min(5, passMs / 20));
    expect(delay.max / 1e6).toBeLessThan(Math.max(passMs, 100));
  }, 60_000);

  it('pairs small pools inline and reports input errors', async () => {
    const small = randomPool(10, 2);
    expect((await pairPoolAsync(small, NOW, defaultPairingConfig)).stats).toEqual(
      pairPool(small, NOW, defaultPairingConfig).stats,
    );
    const dup = [...small, small[0]!];
    await expect(pairPoolAsync(dup, NOW, defaultPairingConfig)).rejects.toThrow(/duplicate/);
    await expect(thread.pair(dup, NOW, defaultPairingConfig)).rejects.toThrow(/duplicate/);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../types.js';
import { type LogSource, startCatchUpSubscription } from './catch-up-subscription.js';
import { ChangeSignal } from './change-signal.js';

/** An in-memory log the loop reads by position, counting its reads. */
function memoryLog() {
  const events: RecordedEvent[] = [];
  const changes = new ChangeSignal();
  const reads: number[] = [];
  const source: LogSource = {
    changes,
    async head() {
      return events.length - 1;
    },
    async readPage(after, maxCount) {
      reads.push(performance.now());
      const page = events.filter((e) => e.position > after).slice(0, maxCount);
      const scannedTo = page.length > 0 ? page[page.length - 1]!.position : Math.max(after, events.length - 1);
      return { events: page, scannedTo, heldBack: false, head: events.length - 1 };
    },
  };
  const append = () => {
    const position = events.length;
    events.push({
      position,
      revision: position,
      streamName: 's-1',
      id: `e-${position}`,
      type: 'T',
      schemaVersion: 1,
      data: {},
      metadata: { tenantId: 't' },
      recordedAt: new Date(),
    } as unknown as RecordedEvent);
    changes.notify();
  };
  return { source, append, reads };
}

const timing = { idlePollMs: 1000, heldBackPollMs: 20, minReadIntervalMs: 40 };

describe('the live read interval (minReadIntervalMs)', () => {
  it('reads a change after a quiet spell at once', async () => {
    const log = memoryLog();
    const delivered: number[] = [];
    const subscription = startCatchUpSubscription(
      log.source,
      { handler: () => void delivered.push(performance.now()) },
      timing,
      () => undefined,
    );
    await subscription.caughtUp;
    await sleep(60); // quiet for longer than the interval
    const appendedAt = performance.now();
    log.append();
    while (delivered.length === 0) await sleep(1);
    expect(delivered[0]! - appendedAt).toBeLessThan(35); // not held for the interval (40 ms)
    await subscription.close();
  });

  it('under constant writes, reads at most once per interval, each read bringing what was committed meanwhile', async () => {
    const log = memoryLog();
    const batches: number[] = [];
    let current = 0;
    const subscription = startCatchUpSubscription(
      log.source,
      {
        handler: () => {
          current++;
        },
      },
      timing,
      () => undefined,
    );
    await subscription.caughtUp;
    const readsBefore = log.reads.length;
    // An append every 2 ms for 400 ms.
    const start = performance.now();
    while (performance.now() - start < 400) {
      log.append();
      await sleep(2);
      if (current > 0) {
        batches.push(current);
        current = 0;
      }
    }
    while (subscription.lastPosition < 0 || log.reads.length === readsBefore) await sleep(5);
    await sleep(100);
    const reads = log.reads.slice(readsBefore);
    const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
    // ≈ 400 / 40 reads, not one per append (≈ 130 appends on a loaded machine, ≈ 200 idle)
    expect(reads.length).toBeLessThanOrEqual(400 / 40 + 3);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(40 - 2);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    await subscription.close();
  });
});

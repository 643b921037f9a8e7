import type { EventStore, RecordedEvent } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { describe, expect, it } from 'vitest';
import { ProjectionReset } from './projection-reset.js';
import { type ApplyContext, type BatchProjection, type RebuiltEvent, runProjections } from './projection-runner.js';

const metadata = {
  tenantId: 't',
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service' as const, id: 'test' },
};

const append = async (store: EventStore, n: number, from = 0) => {
  for (let i = from; i < from + n; i++)
    await store.appendToStream(
      `player-t-u${i}`,
      [{ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'Test', data: { i }, metadata }],
      { expectedRevision: 'any' },
    );
};

/** A projection that records what it was given; optionally slow or failing. */
function recorder(name: string, checkpoint: number | undefined, behaviour: { delayMs?: number; failOn?: number } = {}) {
  const seen: number[] = [];
  const appliedAt: number[] = [];
  const projection: BatchProjection = {
    name,
    loadCheckpoint: async () => checkpoint,
    async applyBatch(events: readonly RecordedEvent[]) {
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
      for (const e of events) {
        if ((e.data as { i: number }).i === behaviour.failOn) throw new Error(`${name} failed`);
        seen.push((e.data as { i: number }).i);
        appliedAt.push(performance.now());
      }
    },
  };
  return { projection, seen, appliedAt };
}

describe('runProjections (one subscription, several projections)', () => {
  it('gives each projection the events after its own checkpoint, once, in order', async () => {
    const store = createMemoryEventStore();
    await append(store, 10);
    const positions = (await store.readAll({ maxCount: 100 })).map((e) => e.position);
    const behind = recorder('behind', undefined);
    const ahead = recorder('ahead', positions[6]); // has events 0..6
    const run = await runProjections(store, [behind.projection, ahead.projection], { filter: {} });
    await run.caughtUp;
    expect(behind.seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ahead.seen).toEqual([7, 8, 9]);

    await append(store, 2, 10);
    const last = (await store.readAll({ maxCount: 100 })).at(-1)!.position;
    await run.waitFor(last);
    expect(run.position()).toBe(last);
    expect(behind.seen.slice(-2)).toEqual([10, 11]);
    expect(ahead.seen).toEqual([7, 8, 9, 10, 11]);
    await run.close();
  });

  it('a slow projection does not hold back a fast one on live events', async () => {
    const store = createMemoryEventStore();
    const slow = recorder('slow', undefined, { delayMs: 400 });
    const fast = recorder('fast', undefined);
    const run = await runProjections(store, [slow.projection, fast.projection], { filter: {} });
    await run.caughtUp;
    const t0 = performance.now();
    await append(store, 1);
    await append(store, 1, 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(fast.seen).toEqual([0, 1]);
    expect(fast.appliedAt[1]! - t0).toBeLessThan(150);
    expect(slow.seen.length).toBeLessThan(2);
    const last = (await store.readAll({ maxCount: 10 })).at(-1)!.position;
    await run.waitFor(last);
    expect(slow.seen).toEqual([0, 1]);
    await run.close();
  });

  it('stops on the first failure of any projection and reports it', async () => {
    const store = createMemoryEventStore();
    await append(store, 5);
    const failing = recorder('failing', undefined, { failOn: 3 });
    const other = recorder('other', undefined);
    const errors: unknown[] = [];
    const run = await runProjections(store, [failing.projection, other.projection], {
      filter: {},
      batchSize: 1,
      onError: (e) => errors.push(e),
    });
    await expect(run.caughtUp).rejects.toThrow(); // the subscription was closed by the failure
    await run.done;
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('failing failed');
    expect(failing.seen).toEqual([0, 1, 2]);
    await expect(run.waitFor(1e12)).rejects.toThrow('failing failed');
  });

  it('rebuilds a projection that lost its state from its reloaded checkpoint, on its own chain, while the other goes on', async () => {
    const store = createMemoryEventStore();
    await append(store, 10);
    // A store that is wiped the first time event 6 arrives (as a Redis that restarted empty).
    let stored: number | undefined;
    let wiped = false;
    let resetListener: ((reason: string) => void) | undefined;
    const seen: { i: number; rebuilding: boolean }[] = [];
    let afterRebuilds = 0;
    const fragile: BatchProjection = {
      name: 'fragile',
      loadCheckpoint: async () => stored,
      async applyBatch(events: readonly RecordedEvent[], context?: ApplyContext) {
        if (!wiped && events.some((e) => (e.data as { i: number }).i === 6)) {
          wiped = true;
          stored = undefined;
          throw new ProjectionReset('fragile', 'store lost');
        }
        for (const e of events) seen.push({ i: (e.data as { i: number }).i, rebuilding: context?.rebuilding ?? false });
        stored = events.at(-1)!.position;
      },
      async afterRebuild() {
        afterRebuilds++;
      },
      onResetNeeded(listener) {
        resetListener = listener;
        return () => {
          resetListener = undefined;
        };
      },
    };
    const other = recorder('other', undefined);
    const recovered: RebuiltEvent[] = [];
    const errors: unknown[] = [];
    const run = await runProjections(store, [fragile, other.projection], {
      filter: {},
      batchSize: 4,
      onRecovered: (e) => recovered.push(e),
      onError: (e) => errors.push(e),
    });
    await run.caughtUp;
    expect(errors).toEqual([]);
    expect(other.seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 0..3 live from the subscription, then the batch with 6 failed: replayed from the start
    // (in batches read from the store, marked as rebuilding), then the rest as usual.
    const is = seen.map((s) => s.i);
    expect(is).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.slice(4, 12).every((s) => s.rebuilding)).toBe(true);
    expect(afterRebuilds).toBe(1);
    expect(recovered).toMatchObject([{ projection: 'fragile', kind: 'reset', from: -1, events: 8 }]);

    // A reset asked for between batches (e.g. after a reconnect) replays up to what the run has seen.
    stored = undefined;
    seen.length = 0;
    resetListener!('reconnected empty');
    while (afterRebuilds < 2) await new Promise((r) => setTimeout(r, 5));
    expect(run.position()).toBe((await store.readAll({ maxCount: 100 })).at(-1)!.position);
    expect(seen.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(afterRebuilds).toBe(2);
    await run.close();
    expect(resetListener).toBeUndefined(); // unsubscribed on close
  });

  it('a reset asked for while the projection is already rebuilding is covered by that rebuild (no second one)', async () => {
    const store = createMemoryEventStore();
    await append(store, 10);
    let stored: number | undefined;
    let wiped = false;
    let asked = false;
    let resetListener: ((reason: string) => void) | undefined;
    let afterRebuilds = 0;
    const fragile: BatchProjection = {
      name: 'fragile',
      async loadCheckpoint() {
        // The rebuild has started; the reconnect check, a moment late, also saw the epoch gone.
        if (wiped && !asked) {
          asked = true;
          resetListener?.('epoch missing after a Redis reconnect');
        }
        return stored;
      },
      async applyBatch(events: readonly RecordedEvent[]) {
        if (!wiped && events.some((e) => (e.data as { i: number }).i === 6)) {
          wiped = true;
          stored = undefined;
          throw new ProjectionReset('fragile', 'epoch missing at checkpoint');
        }
        stored = events.at(-1)!.position;
      },
      async afterRebuild() {
        afterRebuilds++;
      },
      onResetNeeded(listener) {
        resetListener = listener;
        return () => {
          resetListener = undefined;
        };
      },
    };
    const recovered: RebuiltEvent[] = [];
    const run = await runProjections(store, [fragile], {
      filter: {},
      batchSize: 4,
      onRecovered: (e) => recovered.push(e),
    });
    await run.caughtUp;
    await new Promise((r) => setTimeout(r, 100)); // time for a second rebuild, if one were queued
    expect(asked).toBe(true);
    expect(afterRebuilds).toBe(1);
    expect(recovered).toHaveLength(1);
    // A reset asked for after the rebuild finished is not covered by it: it runs.
    resetListener!('flushed later');
    while (afterRebuilds < 2) await new Promise((r) => setTimeout(r, 5));
    expect(recovered).toHaveLength(2);
    await run.close();
  });

  it('retries a batch that failed with a transient error from the checkpoint, without stopping the run', async () => {
    const store = createMemoryEventStore();
    await append(store, 8);
    let stored: number | undefined;
    let failures = 0;
    const seen: number[] = [];
    const flaky: BatchProjection = {
      name: 'flaky',
      loadCheckpoint: async () => stored,
      async applyBatch(events: readonly RecordedEvent[]) {
        if (events.some((e) => (e.data as { i: number }).i === 5) && failures < 2) {
          failures++;
          throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        }
        for (const e of events) seen.push((e.data as { i: number }).i);
        stored = events.at(-1)!.position;
      },
    };
    const retries: number[] = [];
    const errors: unknown[] = [];
    const run = await runProjections(store, [flaky], {
      filter: {},
      batchSize: 3,
      isTransient: (e) => (e as { code?: string }).code === '57P01',
      onRecover: (e) => retries.push(e.retryInMs),
      onError: (e) => errors.push(e),
    });
    await run.caughtUp;
    expect(errors).toEqual([]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(retries).toEqual([100, 200]);
    await run.close();
  });

  it('a projection that is rebuilding does not hold the others back, even while full batches arrive', async () => {
    const store = createMemoryEventStore();
    await append(store, 10);
    let stored: number | undefined;
    let wiped = false;
    let rebuilding = false;
    const slow: BatchProjection = {
      name: 'slow-rebuild',
      loadCheckpoint: async () => stored,
      async applyBatch(events: readonly RecordedEvent[], context?: ApplyContext) {
        if (!wiped && events.some((e) => (e.data as { i: number }).i === 8)) {
          wiped = true;
          stored = undefined;
          throw new ProjectionReset('slow-rebuild', 'store lost');
        }
        if (context?.rebuilding) {
          rebuilding = true;
          await new Promise((r) => setTimeout(r, 150)); // a long rebuild
        }
        stored = events.at(-1)!.position;
      },
      async afterRebuild() {
        rebuilding = false;
      },
    };
    const other = recorder('other', undefined);
    const run = await runProjections(store, [slow, other.projection], { filter: {}, batchSize: 2 });
    while (!rebuilding) await new Promise((r) => setTimeout(r, 5));
    await append(store, 10, 10); // full batches (batchSize 2) while it rebuilds
    const deadline = performance.now() + 400;
    while (other.seen.length < 20 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(other.seen).toHaveLength(20);
    expect(rebuilding).toBe(true); // the others got everything before the rebuild was done
    await run.caughtUp;
    await run.waitFor((await store.readAll({ maxCount: 100 })).at(-1)!.position);
    expect(rebuilding).toBe(false);
    await run.close();
  });
});

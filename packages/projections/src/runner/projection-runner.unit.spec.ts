import { createMemoryEventStore, type EventStore, type RecordedEvent } from '@mm/event-store';
import { describe, expect, it } from 'vitest';
import { type BatchProjection, runProjections } from './projection-runner.js';

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
});

import { describe, expect, it } from 'vitest';
import { describeEventStoreContract, sampleEvent } from '../testing/index.js';
import { createMemoryEventStore } from './memory-event-store.js';

describeEventStoreContract(
  'memory',
  async () => {
    const store = createMemoryEventStore();
    return { store, teardown: () => store.close() };
  },
  { multiStreamAppend: true },
);

describe('memory event store', () => {
  it('keeps stored events immune to later mutation of the appended or read objects', async () => {
    const store = createMemoryEventStore();
    const event = sampleEvent('X', { value: 1 });
    await store.appendToStream('s-1', [event]);
    (event.data as { value: number }).value = 2;
    const [read] = await store.readStream('s-1');
    (read!.data as { value: number }).value = 3;
    expect((await store.readStream('s-1'))[0]!.data).toMatchObject({ value: 1 });
  });

  it('close() stops subscriptions and refuses further use', async () => {
    const store = createMemoryEventStore();
    const subscription = store.subscribeToAll({ handler: () => undefined });
    await subscription.caughtUp;
    await store.close();
    await subscription.done;
    await expect(store.appendToStream('s-1', [sampleEvent()])).rejects.toThrow(/closed/);
  });
});

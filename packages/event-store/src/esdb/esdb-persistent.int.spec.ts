import { randomBytes } from 'node:crypto';
import { EventStoreDBClient, persistentSubscriptionToAllSettingsFromDefaults, START } from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EsdbTestServer, startEsdbTestServer } from '../../test/esdb-server/esdb-test-server.js';
import { eventually, sampleEvent } from '../testing/index.js';
import type { RecordedEvent } from '../types.js';
import { createEsdbEventStore, type EsdbEventStore } from './esdb-event-store.js';
import { serverFilter } from './esdb-subscription.js';

let server: EsdbTestServer;
const stores: EsdbEventStore[] = [];
const store = () => {
  const created = createEsdbEventStore({ connectionString: server.url, reconnect: { initialDelayMs: 20 } });
  stores.push(created);
  return created;
};

beforeAll(async () => {
  server = await startEsdbTestServer();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.stop();
});

const category = () => `ps${randomBytes(4).toString('hex')}`;

describe('persistent subscriptions (consumer groups) over the protocol test server', () => {
  it('two consumers of one group: every event handled once in total, split between them', async () => {
    const cat = category();
    const writer = store();
    for (let i = 0; i < 10; i++) await writer.appendToStream(`${cat}-${i}`, [sampleEvent('A'), sampleEvent('B')]);
    const seen: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const join = (who: 'a' | 'b') =>
      store().subscribeToPersistentGroup({
        group: `g-${cat}`,
        filter: { categories: [cat] },
        bufferSize: 2,
        handler: async (event: RecordedEvent) => {
          seen[who].push(event.id);
          await new Promise((resolve) => setTimeout(resolve, 2));
        },
      });
    const a = join('a');
    const b = join('b');
    await eventually(() => expect(seen.a.length + seen.b.length).toBe(20));
    // Live events too.
    await writer.appendToStream(`${cat}-live`, [sampleEvent('C'), sampleEvent('C'), sampleEvent('C')]);
    await eventually(() => expect(seen.a.length + seen.b.length).toBe(23));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const all = [...seen.a, ...seen.b];
    expect(new Set(all).size).toBe(23);
    expect(seen.a.length).toBeGreaterThan(0);
    expect(seen.b.length).toBeGreaterThan(0);
    const group = server.persistentGroup('$all', `g-${cat}`)!;
    await eventually(() => expect(group.acked.size).toBe(23));
    await a.close();
    await b.close();
  });

  it('a consumer that goes away: its unacked events are delivered to the other one', async () => {
    const cat = category();
    const writer = store();
    for (let i = 0; i < 6; i++) await writer.appendToStream(`${cat}-${i}`, [sampleEvent('A')]);
    // A raw client that takes 3 events and never acks them, then its call goes away (a crash).
    const raw = EventStoreDBClient.connectionString(server.url);
    await raw.createPersistentSubscriptionToAll(
      `g-${cat}`,
      persistentSubscriptionToAllSettingsFromDefaults({ startFrom: START }),
      { filter: serverFilter({ categories: [cat] }) },
    );
    const crashing = raw.subscribeToPersistentSubscriptionToAll(`g-${cat}`, { bufferSize: 3 });
    const taken: string[] = [];
    crashing.on('data', (resolved: { event?: { id: string } }) => taken.push(resolved.event!.id));
    const group = () => server.persistentGroup('$all', `g-${cat}`);
    await eventually(() => expect(taken).toHaveLength(3));
    const secondSeen: string[] = [];
    const b = store().subscribeToPersistentGroup({
      group: `g-${cat}`,
      filter: { categories: [cat] },
      handler: (event) => {
        secondSeen.push(event.id);
        return undefined;
      },
    });
    await eventually(() => expect(secondSeen).toHaveLength(3));
    expect(secondSeen.some((id) => taken.includes(id))).toBe(false);
    await crashing.unsubscribe();
    await eventually(() => expect(new Set(secondSeen).size).toBe(6));
    expect(secondSeen.slice(3).sort()).toEqual([...taken].sort());
    expect(group()!.deliveries.filter((d) => d.retryCount === 1)).toHaveLength(3);
    await eventually(() => expect(group()!.acked.size).toBe(6));
    await b.close();
    await raw.dispose();
  });

  it('a throwing handler is nacked for a retry, then parked by the server after maxRetryCount', async () => {
    const cat = category();
    const writer = store();
    const poison = sampleEvent('Poison');
    await writer.appendToStream(`${cat}-1`, [sampleEvent('A'), poison, sampleEvent('A')]);
    const retries: number[] = [];
    const good: string[] = [];
    const errors: unknown[] = [];
    const sub = store().subscribeToPersistentGroup({
      group: `g-${cat}`,
      filter: { categories: [cat] },
      maxRetryCount: 2,
      onError: (error) => errors.push(error),
      handler: (event, { retryCount }) => {
        if (event.type === 'Poison') {
          retries.push(retryCount);
          throw new Error('poison');
        }
        good.push(event.id);
        return undefined;
      },
    });
    const group = () => server.persistentGroup('$all', `g-${cat}`);
    await eventually(() => expect(group()?.parked.map((e) => e.id)).toEqual([poison.id]));
    expect(retries).toEqual([0, 1, 2]);
    expect(good).toHaveLength(2);
    expect(errors).toHaveLength(3);
    await sub.close();
  });

  it('a group that exists is joined, not recreated; the acked events are not delivered again', async () => {
    const cat = category();
    const writer = store();
    await writer.appendToStream(`${cat}-1`, [sampleEvent('A'), sampleEvent('A')]);
    const seen: string[] = [];
    const options = {
      group: `g-${cat}`,
      filter: { categories: [cat] },
      handler: (event: RecordedEvent) => {
        seen.push(event.id);
        return undefined;
      },
    };
    const first = store().subscribeToPersistentGroup(options);
    await eventually(() => expect(seen).toHaveLength(2));
    await eventually(() => expect(server.persistentGroup('$all', `g-${cat}`)?.acked.size).toBe(2));
    await first.close();
    await writer.appendToStream(`${cat}-1`, [sampleEvent('A')]);
    const second = store().subscribeToPersistentGroup(options);
    await eventually(() => expect(seen).toHaveLength(3));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(new Set(seen).size).toBe(3);
    await second.close();
  });
});

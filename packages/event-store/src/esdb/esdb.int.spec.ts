import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EsdbTestServer, startEsdbTestServer } from '../../test/esdb-server/esdb-test-server.js';
import { createEventStore } from '../create-event-store.js';
import { describeEventStoreContract, eventually, readAllPages, sampleEvent } from '../testing/index.js';
import type { RecordedEvent } from '../types.js';
import { createEsdbEventStore } from './esdb-event-store.js';

let server: EsdbTestServer;

beforeAll(async () => {
  server = await startEsdbTestServer();
});

afterAll(async () => {
  await server?.stop();
});

describeEventStoreContract(
  'esdb over the EventStoreDB protocol test server',
  async () => {
    const store = createEsdbEventStore({ connectionString: server.url });
    return { store, teardown: () => store.close() };
  },
  { eventIdScope: 'stream' },
);

const realUrl = process.env.ESDB_TEST_URL;
if (realUrl) {
  describeEventStoreContract(
    `esdb against a real EventStoreDB (${realUrl})`,
    async () => {
      const store = createEsdbEventStore({ connectionString: realUrl });
      return { store, teardown: () => store.close() };
    },
    { eventIdScope: 'stream' },
  );
} else {
  console.warn(
    '[esdb.int.spec] ESDB_TEST_URL is not set: the contract suite against a real EventStoreDB is SKIPPED ' +
      '(e.g. ESDB_TEST_URL="esdb://127.0.0.1:2113?tls=false").',
  );
  describe.skip('EventStore contract: esdb against a real EventStoreDB — SKIPPED, set ESDB_TEST_URL', () => {
    it('needs ESDB_TEST_URL', () => undefined);
  });
}

describe('esdb adapter over the protocol test server', () => {
  it('is what createEventStore picks for esdb:// URLs', async () => {
    const store = await createEventStore(server.url);
    try {
      const cat = category();
      await store.appendToStream(`${cat}-1`, [sampleEvent()], { expectedRevision: 'no_stream' });
      expect(await store.streamRevision(`${cat}-1`)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('event ids are idempotency keys per stream (as in EventStoreDB): the same id in another stream is written', async () => {
    const store = createEsdbEventStore(server.url);
    try {
      const cat = category();
      const event = sampleEvent();
      await store.appendToStream(`${cat}-a`, [event]);
      await store.appendToStream(`${cat}-b`, [event]);
      expect((await store.readStream(`${cat}-b`)).map((e) => e.id)).toEqual([event.id]);
    } finally {
      await store.close();
    }
  });

  it('excludes system events ($-types, $-streams such as $ce- links) from reads and subscriptions', async () => {
    // A server of its own: reading the whole log of the shared one (every contract test's
    // events) page by page took longer than the test's timeout on a busy machine.
    const own = await startEsdbTestServer();
    const store = createEsdbEventStore(own.url);
    try {
      const cat = category();
      const appended = await store.appendToStream(`${cat}-1`, [sampleEvent(), sampleEvent()]);
      expect(own.log.streams.get(`$ce-${cat}`)).toHaveLength(2); // the emulated $by_category projection
      const all = await readAllPages(store, { pageSize: 50 });
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(all.some((event) => event.type.startsWith('$') || event.streamName.startsWith('$'))).toBe(false);
      const seen: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({ handler: (event) => void seen.push(event) });
      await subscription.caughtUp;
      expect(seen.some((event) => event.type.startsWith('$') || event.streamName.startsWith('$'))).toBe(false);
      expect(seen.at(-1)?.position).toBe(appended.position);
      await subscription.close();
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('rejects event ids that are not UUIDs before sending anything', async () => {
    const store = createEsdbEventStore(server.url);
    try {
      await expect(store.appendToStream(`${category()}-1`, [{ ...sampleEvent(), id: 'not-a-uuid' }])).rejects.toThrow(
        /not a UUID/,
      );
    } finally {
      await store.close();
    }
  });
});

describe('esdb subscriptions survive a server restart', () => {
  it('resubscribes from the last handled position: nothing lost, nothing handled twice', async () => {
    const own = await startEsdbTestServer();
    const store = createEsdbEventStore({
      connectionString: own.url,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    const writer = createEsdbEventStore(own.url);
    try {
      const cat = category();
      const ids: string[] = [];
      const append = async (count: number) => {
        for (let index = 0; index < count; index++) {
          const event = sampleEvent();
          ids.push(event.id);
          await writer.appendToStream(`${cat}-${index % 3}`, [event]);
        }
      };
      await append(20);
      const seen: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribeToAll({
        filter: { categories: [cat] },
        handler: (event) => void seen.push(event),
        onError: (error) => errors.push(error),
      });
      await subscription.caughtUp;
      expect(seen).toHaveLength(20);

      await own.stop(); // drops the live subscription's connection
      await new Promise((resolve) => setTimeout(resolve, 300));
      await own.start(); // same port, same log
      await append(15); // written after the restart, while the subscription reconnects
      await eventually(() => expect(seen).toHaveLength(35), 20_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen.map((event) => event.id)).toEqual(ids);
      expect(new Set(seen.map((event) => event.position)).size).toBe(35);
      expect(errors).toEqual([]);
      expect(subscription.lastPosition).toBe(seen.at(-1)!.position);
      await subscription.close();
    } finally {
      await store.close();
      await writer.close();
      await own.stop();
    }
  }, 60_000);
});

function category() {
  return `c${randomBytes(5).toString('hex')}`;
}

import { randomUUID } from 'node:crypto';
import { type EventData, type EventStore, WrongExpectedRevisionError } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE_APPEND_SECONDS, instrumentEventStore } from './event-store.js';
import { createMetricsRegistry } from './registry.js';

const event = (): EventData => ({
  id: randomUUID(),
  type: 'Noted',
  data: { n: 1 },
  metadata: { tenantId: 't', correlationId: randomUUID(), causationId: null, actor: { type: 'system', id: 'test' } },
});

let db: TestSchema;
let store: EventStore;
beforeAll(async () => {
  db = await createTestSchema('metrics_store');
  store = await createPostgresEventStore({ pool: db.pool, schema: db.schema });
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

const counts = async (registry: ReturnType<typeof createMetricsRegistry>) => {
  const metric = await registry.getSingleMetric(EVENT_STORE_APPEND_SECONDS)!.get();
  return Object.fromEntries(
    (metric.values as { metricName?: string; labels: Record<string, string | number>; value: number }[])
      .filter((v) => v.metricName === `${EVENT_STORE_APPEND_SECONDS}_count`)
      .map((v) => [`${v.labels.operation}/${v.labels.outcome}`, v.value]),
  );
};

describe('instrumentEventStore (PostgreSQL adapter)', () => {
  it('times appends by operation and outcome and counts the events written; reads pass through', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const instrumented = instrumentEventStore(store, registry);
    const stream = `note-${randomUUID()}`;
    await instrumented.appendToStream(stream, [event(), event()], { expectedRevision: 'no_stream' });
    await expect(
      instrumented.appendToStream(stream, [event()], { expectedRevision: 'no_stream' }),
    ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(instrumented.appendToStreams).toBeTypeOf('function');
    await instrumented.appendToStreams!([
      { streamName: `note-${randomUUID()}`, events: [event()] },
      { streamName: `note-${randomUUID()}`, events: [event(), event()] },
    ]);
    expect(await counts(registry)).toEqual({
      'append/ok': 1,
      'append/conflict': 1,
      'append/error': 0,
      'append_multi/ok': 1,
      'append_multi/conflict': 0,
      'append_multi/error': 0,
    });
    expect(await registry.metrics()).toMatch(/^matchmaking_event_store_events_appended_total 5$/m);
    expect((await instrumented.readStream(stream)).length).toBe(2);
    await instrumented.ping();
  });

  it('counts a failed append as an error and rethrows it', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const broken: EventStore = {
      ...store,
      appendToStream: () => Promise.reject(new Error('connection terminated')),
      appendToStreams: undefined,
    };
    const instrumented = instrumentEventStore(broken, registry);
    await expect(instrumented.appendToStream('note-x', [event()])).rejects.toThrow('connection terminated');
    expect(instrumented.appendToStreams).toBeUndefined();
    expect((await counts(registry))['append/error']).toBe(1);
  });
});

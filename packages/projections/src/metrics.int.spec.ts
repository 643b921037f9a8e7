import { randomUUID } from 'node:crypto';
import { loadConfig } from '@mm/config';
import type { EventData, EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createMetricsRegistry } from '@mm/metrics';
import { createTestRedis, createTestSchema, deleteRedisPrefix, randomRedisPrefix, type TestSchema } from '@mm/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectorMetrics, projectionLag } from './metrics.js';
import { READ_MODELS_PROJECTION } from './postgres/read-model-projection.js';
import { startProjector } from './projector.js';
import { QUEUE_VIEWS_PROJECTION } from './redis/queue-view-projection.js';

let db: TestSchema;
let redis: Redis;
let store: EventStore;
const prefix = randomRedisPrefix('projmetrics');
beforeAll(async () => {
  db = await createTestSchema('proj_metrics');
  redis = createTestRedis();
  store = await createPostgresEventStore({ pool: db.pool, schema: db.schema });
});
afterAll(async () => {
  await store?.close();
  await deleteRedisPrefix(redis, prefix);
  redis?.disconnect();
  await db?.drop();
});

/** An event of a category the projections follow, but of a type they ignore (it only moves their checkpoints). */
const noted = (): EventData => ({
  id: randomUUID(),
  type: 'OperatorNoted',
  data: {},
  metadata: { tenantId: 't', correlationId: randomUUID(), causationId: null, actor: { type: 'system', id: 'test' } },
});

const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

describe('projection lag', () => {
  it('counts the events after each projection and the age of the first one it has not applied, up to a cap', async () => {
    const stream = `player-t:lag-${randomUUID()}`;
    const first = await store.appendToStream(stream, [noted()]);
    await store.appendToStream(stream, [noted(), noted()]);
    await store.appendToStream(`other-t:x-${randomUUID()}`, [noted()]); // a category the projections do not follow
    const all = (await store.readAll({ after: first.position - 1, maxCount: 10 })).filter((e) =>
      e.streamName.startsWith('player-'),
    );
    expect(all).toHaveLength(3);
    const now = all[0]!.recordedAt.getTime() + 5_000;
    const positions = { behind: first.position - 1, middle: first.position, caughtUp: all.at(-1)!.position };
    const lag = await projectionLag({ positions: () => positions, store }, { now });
    expect(lag.behind).toEqual({ events: 3, seconds: 5 });
    expect(lag.middle!.events).toBe(2);
    expect(lag.middle!.seconds).toBeCloseTo((now - all[1]!.recordedAt.getTime()) / 1000, 6);
    expect(lag.caughtUp).toEqual({ events: 0, seconds: 0 });
    expect((await projectionLag({ positions: () => positions, store }, { now, cap: 2 })).behind!.events).toBe(2);
  });
});

describe('projector metrics', () => {
  it('measures batches per projection and reports the lag of the running projections, none once closed', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createProjectorMetrics(registry);
    const config = loadConfig({
      DATABASE_URL: db.connectionString,
      READ_MODEL_SCHEMA: db.schema,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    });
    const projector = await startProjector({
      config,
      logger: pino({ level: 'silent' }),
      store,
      db: db.pool,
      redis,
      metrics,
    });
    metrics.leading(true);
    await projector.caughtUp;
    const appended = await store.appendToStream(`player-t:p-${randomUUID()}`, [noted(), noted()]);
    await projector.waitFor(appended.position);

    const text = await registry.metrics();
    for (const projection of [READ_MODELS_PROJECTION, QUEUE_VIEWS_PROJECTION]) {
      expect(
        value(text, `matchmaking_projection_batch_duration_seconds_count{projection="${projection}"}`),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(text, `matchmaking_projection_events_applied_total{projection="${projection}"}`),
      ).toBeGreaterThanOrEqual(2);
      expect(value(text, `matchmaking_projection_lag_events{projection="${projection}"}`)).toBe(0);
      expect(value(text, `matchmaking_projection_lag_seconds{projection="${projection}"}`)).toBe(0);
    }
    expect(value(text, 'matchmaking_projector_leader')).toBe(1);
    expect(
      value(text, `matchmaking_projection_recoveries_total{projection="${READ_MODELS_PROJECTION}",kind="reset"}`),
    ).toBe(0);
    expect(await projector.readinessChecks.postgres!()).toBeDefined();

    await projector.close();
    metrics.leading(false);
    const after = await registry.metrics();
    expect(after).not.toContain('matchmaking_projection_lag_events{');
    expect(value(after, 'matchmaking_projector_leader')).toBe(0);
  });
});

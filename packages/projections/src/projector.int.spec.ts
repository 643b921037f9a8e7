import { loadConfig } from '@mm/config';
import { makePool, matchStream, playerStream } from '@mm/contracts';
import { handleCommand, matchDecider, playerDecider } from '@mm/domain';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createTestRedis, createTestSchema, deleteRedisPrefix, randomRedisPrefix, type TestSchema } from '@mm/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelProjection, resetReadModels } from './postgres/read-model-projection.js';
import { startProjector } from './projector.js';
import { resetQueueViews } from './redis/queue-view-projection.js';
import { createQueueViewReader } from './redis/queue-view-reader.js';

let db: TestSchema;
let redis: Redis;
let store: EventStore;
const prefix = randomRedisPrefix('proj');
const tenant = 'tenant-p';
const config = () =>
  loadConfig({
    DATABASE_URL: db.connectionString,
    READ_MODEL_SCHEMA: db.schema,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
const logger = pino({ level: 'silent' });
const meta = (actor = 'test'): EventMetadata => ({
  tenantId: tenant,
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service', id: actor },
});
const pool = makePool('3+0', 'rated');
const t0 = Date.parse('2026-11-29T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

async function player(userId: string, command: Parameters<typeof playerDecider.decide>[0]) {
  const result = await handleCommand({
    store,
    streamName: playerStream(tenant, userId),
    decider: playerDecider,
    command,
    metadata: meta(),
  });
  if (!result.ok) throw new Error(result.error.code);
}

/** A small history: joins, a cancel, a timeout, a match with its game, a searching player. */
async function writeHistory() {
  const join = (userId: string, entry: string, rating: number, s: number) =>
    player(userId, {
      type: 'JoinQueue',
      userId,
      queueEntryId: entry,
      pool,
      rating,
      ratingSource: 'default',
      ratingRange: null,
      now: at(s),
    });
  await join('ann', 'e-ann', 1500, 0);
  await join('ben', 'e-ben', 1550, 1);
  await join('cid', 'e-cid', 1700, 2);
  await join('dot', 'e-dot', 1900, 3);
  await join('eve', 'e-eve', 1200, 4);
  await player('cid', { type: 'CancelQueueEntry', userId: 'cid', queueEntryId: 'e-cid', now: at(5) });
  await player('dot', {
    type: 'TimeOutQueueEntry',
    userId: 'dot',
    queueEntryId: 'e-dot',
    now: at(700),
    maxQueueTimeMs: 600_000,
  });
  for (const [me, other, entry, otherEntry, rating] of [
    ['ann', 'ben', 'e-ann', 'e-ben', 1550],
    ['ben', 'ann', 'e-ben', 'e-ann', 1500],
  ] as const) {
    await player(me, {
      type: 'ClaimQueueEntry',
      userId: me,
      queueEntryId: entry,
      matchId: 'm-1',
      opponent: { userId: other, queueEntryId: otherEntry, rating },
      now: at(6),
    });
  }
  const side = (userId: string, entry: string, rating: number) => ({
    userId,
    queueEntryId: entry,
    rating,
    window: { low: rating - 100, high: rating + 100 },
    waitMs: 5000,
  });
  for (const command of [
    {
      type: 'CreateMatch' as const,
      match: {
        matchId: 'm-1',
        source: 'queue' as const,
        pool,
        white: side('ann', 'e-ann', 1500),
        black: side('ben', 'e-ben', 1550),
        ratingGap: 50,
        weight: 1,
        algorithmVersion: 'test',
        colourReason: 'test',
        decidedAt: at(6),
      },
    },
    { type: 'RecordGameCreated' as const, matchId: 'm-1', gameId: 'g-1', now: at(7) },
  ]) {
    const result = await handleCommand({
      store,
      streamName: matchStream('m-1'),
      decider: matchDecider,
      command: command as Parameters<typeof matchDecider.decide>[0],
      metadata: meta(),
    });
    if (!result.ok) throw new Error(result.error.code);
  }
  for (const [userId, entry, colour] of [
    ['ann', 'e-ann', 'white'],
    ['ben', 'e-ben', 'black'],
  ] as const) {
    await player(userId, {
      type: 'RecordGameStarted',
      userId,
      queueEntryId: entry,
      matchId: 'm-1',
      gameId: 'g-1',
      colour,
      now: at(7),
    });
  }
}

const snapshot = async () => {
  const rows = async (table: string) =>
    (await db.pool.query(`SELECT * FROM "${db.schema}".${table} ORDER BY 1, 2`)).rows.map((r) => ({
      ...r,
      last_position: undefined,
    }));
  const views = createQueueViewReader(redis, prefix);
  return {
    entries: await rows('queue_entries'),
    matches: await rows('matches'),
    challenges: await rows('challenges'),
    pools: await views.activePools(),
    searching: await views.snapshot(tenant, pool.key),
  };
};

async function runProjectorUntilCaughtUp() {
  const projector = await startProjector({ config: config(), logger, store, db: db.pool, redis });
  await projector.caughtUp;
  await projector.close();
}

beforeAll(async () => {
  db = await createTestSchema('proj');
  redis = createTestRedis();
  store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 3 });
  await writeHistory();
});
afterAll(async () => {
  await store?.close();
  await deleteRedisPrefix(redis, prefix);
  redis?.disconnect();
  await db?.drop();
});

describe('projector', () => {
  it('builds the read models and queue views from the log', async () => {
    await runProjectorUntilCaughtUp();
    const state = await snapshot();
    const byId = Object.fromEntries(state.entries.map((e) => [e.queue_entry_id, e]));
    expect(byId['e-ann']).toMatchObject({
      status: 'MATCHED',
      match_id: 'm-1',
      colour: 'white',
      game_id: 'g-1',
      opponent_id: 'ben',
    });
    expect(byId['e-ben']).toMatchObject({ status: 'MATCHED', colour: 'black', game_id: 'g-1' });
    expect(byId['e-cid']).toMatchObject({ status: 'CANCELLED' });
    expect(byId['e-dot']).toMatchObject({ status: 'TIMED_OUT' });
    expect(byId['e-eve']).toMatchObject({ status: 'SEARCHING', ended_at: null });
    expect(state.matches).toHaveLength(1);
    expect(state.matches[0]).toMatchObject({ status: 'GAME_CREATED', game_id: 'g-1', white_user_id: 'ann' });
    expect(state.pools).toEqual([{ tenantId: tenant, poolKey: pool.key }]);
    expect(state.searching.map((e) => e.entryId)).toEqual(['e-eve']);
  });

  it('rebuilds the same read models and views after they are dropped (replay)', async () => {
    const before = await snapshot();
    await resetReadModels(db.pool, db.schema);
    await resetQueueViews(redis, prefix);
    expect((await snapshot()).entries).toEqual([]);
    await runProjectorUntilCaughtUp();
    expect(await snapshot()).toEqual(before);
  });

  it('ignores redelivered events (at-least-once)', async () => {
    const before = await snapshot();
    const all = await store.readAll({ maxCount: 1000 });
    await createReadModelProjection(db.pool, db.schema).applyBatch(all);
    expect(await snapshot()).toEqual(before);
  });

  it('recent opponents and colours reach the pairing snapshot', async () => {
    await player('ann', {
      type: 'JoinQueue',
      userId: 'ann',
      queueEntryId: 'e-ann-2',
      pool,
      rating: 1500,
      ratingSource: 'default',
      ratingRange: null,
      now: at(10),
    });
    await runProjectorUntilCaughtUp();
    const entries = await createQueueViewReader(redis, prefix).snapshot(tenant, pool.key);
    const ann = entries.find((e) => e.entryId === 'e-ann-2');
    expect(ann).toMatchObject({ userId: 'ann', rating: 1500, colourHistory: ['white'] });
    expect(ann?.recentOpponents).toEqual([{ userId: 'ben', at: t0 + 6000 }]);
  });
});

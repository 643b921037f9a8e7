import { randomBytes } from 'node:crypto';
import { loadConfig } from '@mm/config';
import { makePool, matchStream, playerStream } from '@mm/contracts';
import { handleCommand, matchDecider, playerDecider } from '@mm/domain';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createTestRedis, createTestSchema, deleteRedisPrefix, randomRedisPrefix, type TestSchema } from '@mm/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Projector, startProjector } from './projector.js';
import { diffQueueViews, dumpQueueViews } from './redis/queue-view-dump.js';
import { createQueueViewProjection } from './redis/queue-view-projection.js';
import { createQueueViewReader } from './redis/queue-view-reader.js';
import { runProjection } from './runner/projection-runner.js';

/*
 * The projector keeps working when its stores fail under it: Redis loses every key of the views
 * (a restart without persistence), and PostgreSQL terminates its connections. After each, the
 * views must equal a fresh replay of the log into another prefix, key for key.
 */

let db: TestSchema;
let redis: Redis; // the test's own client (dumps, deletes)
let projectorRedis: Redis; // the projector's client (the test makes it reconnect)
let store: EventStore; // the writers' (commands, replays)
let projectorStore: EventStore; // the projector's subscription, on connections named like the projector's pool
let projector: Projector;
const prefix = randomRedisPrefix('recover');
const applicationName = `mm-projector-test-${randomBytes(4).toString('hex')}`;
const tenant = 'tenant-r';
const pools = [makePool('3+0', 'rated'), makePool('5+0', 'casual')] as const;
const logger = pino({ level: 'silent' });
const meta: EventMetadata = {
  tenantId: tenant,
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service', id: 't' },
};
const t0 = Date.parse('2026-11-29T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

async function player(userId: string, command: Parameters<typeof playerDecider.decide>[0]) {
  const result = await handleCommand({
    store,
    streamName: playerStream(tenant, userId),
    decider: playerDecider,
    command,
    metadata: meta,
  });
  if (!result.ok) throw new Error(`${command.type} ${userId}: ${result.error.code}`);
}

async function match(matchId: string, command: Parameters<typeof matchDecider.decide>[0]) {
  const result = await handleCommand({
    store,
    streamName: matchStream(matchId),
    decider: matchDecider,
    command,
    metadata: meta,
  });
  if (!result.ok) throw new Error(`${command.type} ${matchId}: ${result.error.code}`);
}

interface Entry {
  userId: string;
  entryId: string;
  rating: number;
  pool: (typeof pools)[number];
}

const join = async (userId: string, n: number): Promise<Entry> => {
  const entry: Entry = { userId, entryId: `e-${userId}`, rating: 1200 + ((n * 37) % 600), pool: pools[n % 2]! };
  await player(userId, {
    type: 'JoinQueue',
    userId,
    queueEntryId: entry.entryId,
    pool: entry.pool,
    rating: entry.rating,
    ratingSource: 'default',
    ratingRange: null,
    now: at(n),
  });
  return entry;
};

const cancel = (e: Entry) =>
  player(e.userId, { type: 'CancelQueueEntry', userId: e.userId, queueEntryId: e.entryId, now: at(100) });

const claim = (e: Entry, matchId: string, other: Entry) =>
  player(e.userId, {
    type: 'ClaimQueueEntry',
    userId: e.userId,
    queueEntryId: e.entryId,
    matchId,
    opponent: { userId: other.userId, queueEntryId: other.entryId, rating: other.rating },
    now: at(101),
  });

/** Both claims, MatchCreated, GameCreated and both players' QueueEntryGameStarted. */
async function pairUp(white: Entry, black: Entry) {
  const matchId = `m-${white.userId}-${black.userId}`;
  await claim(white, matchId, black);
  await claim(black, matchId, white);
  const side = (e: Entry) => ({
    userId: e.userId,
    queueEntryId: e.entryId,
    rating: e.rating,
    window: { low: e.rating - 100, high: e.rating + 100 },
    waitMs: 5000,
  });
  await match(matchId, {
    type: 'CreateMatch',
    match: {
      matchId,
      source: 'queue',
      pool: white.pool,
      white: side(white),
      black: side(black),
      ratingGap: Math.abs(white.rating - black.rating),
      weight: 1,
      algorithmVersion: 'test',
      colourReason: 'test',
      decidedAt: at(102),
    },
  });
  await match(matchId, { type: 'RecordGameCreated', matchId, gameId: `g-${matchId}`, now: at(103) });
  for (const [e, colour] of [
    [white, 'white'],
    [black, 'black'],
  ] as const)
    await player(e.userId, {
      type: 'RecordGameStarted',
      userId: e.userId,
      queueEntryId: e.entryId,
      matchId,
      gameId: `g-${matchId}`,
      colour,
      now: at(103),
    });
}

/** A claim whose match is aborted: the entry searches again. */
async function claimAndRelease(e: Entry, other: Entry) {
  const matchId = `m-aborted-${e.userId}`;
  await claim(e, matchId, other);
  await player(e.userId, {
    type: 'ReleaseQueueEntry',
    userId: e.userId,
    queueEntryId: e.entryId,
    matchId,
    reason: 'match_aborted',
    now: at(104),
  });
}

/**
 * `n` players join; per five: one cancels, two are matched (game started), one is claimed and
 * released, one keeps searching. Returns the entries still searching.
 */
async function load(label: string, n: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) entries.push(await join(`${label}${i}`, i));
  const searching: Entry[] = [];
  for (let i = 0; i + 4 < n; i += 5) {
    await cancel(entries[i]!);
    // same pool: i+1 and i+3 have the same parity
    await pairUp(entries[i + 1]!, entries[i + 3]!);
    await claimAndRelease(entries[i + 2]!, entries[i + 4]!);
    searching.push(entries[i + 2]!, entries[i + 4]!);
  }
  return searching;
}

const head = async (): Promise<number> => {
  const { rows } = await db.pool.query<{ head: string | null }>(
    `SELECT max(position) AS head FROM "${db.schema}".events`,
  );
  return rows[0]!.head === null ? -1 : Number(rows[0]!.head);
};

const caughtUp = async () => projector.waitFor(await head());

/** The views a fresh replay of the whole log builds (into another prefix, removed afterwards). */
async function replayViews(): Promise<Record<string, unknown>> {
  const replayPrefix = randomRedisPrefix('replay');
  try {
    const run = await runProjection(store, createQueueViewProjection({ redis, prefix: replayPrefix }), {
      batchSize: 100,
    });
    await run.caughtUp;
    await run.close();
    return await dumpQueueViews(redis, replayPrefix);
  } finally {
    await deleteRedisPrefix(redis, replayPrefix);
  }
}

const eventually = async (check: () => Promise<void>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
};

beforeAll(async () => {
  db = await createTestSchema('recover');
  redis = createTestRedis();
  projectorRedis = createTestRedis();
  store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 3 });
  projectorStore = await createPostgresEventStore({
    connectionString: db.connectionString,
    schema: db.schema,
    poolSize: 2,
    applicationName,
  });
  const config = loadConfig({
    DATABASE_URL: db.connectionString,
    READ_MODEL_SCHEMA: db.schema,
    REDIS_PREFIX: prefix,
    PROJECTOR_BATCH_SIZE: '25', // several batches, also when rebuilding
    LOG_LEVEL: 'silent',
  });
  // The projector's own pool (named), as in apps/projector.
  projector = await startProjector({ config, logger, store: projectorStore, redis: projectorRedis, applicationName });
});

afterAll(async () => {
  await projector?.close();
  await projectorStore?.close();
  await store?.close();
  await deleteRedisPrefix(redis, prefix);
  redis?.disconnect();
  projectorRedis?.disconnect();
  await db?.drop();
});

describe('projector recovery', () => {
  it('rebuilds the queue views by itself when Redis lost them, converging to a fresh replay of the log', async () => {
    const searchingA = await load('a', 40);
    await caughtUp();
    const reader = createQueueViewReader(redis, prefix);
    expect((await reader.snapshot(tenant, pools[0].key)).length).toBeGreaterThan(0);

    // Redis restarted empty: every key of this deployment's prefix is gone (FLUSHALL, limited to
    // the test's prefix: other test files share this Redis).
    await deleteRedisPrefix(redis, prefix);
    // New events, some for entries the views knew before: without a rebuild they would be
    // dropped (unknown entries) and the entries of round A would never be paired or timed out.
    for (const e of searchingA.slice(0, 4)) await cancel(e);
    await pairUp(searchingA[4]!, searchingA[6]!);
    await load('b', 20);
    await caughtUp();

    const live = await dumpQueueViews(redis, prefix);
    const replay = await replayViews();
    // 60 entries, their pools and users' recent lists (one key per user since the position moved into the list)
    expect(Object.keys(replay).length).toBeGreaterThan(80);
    expect(diffQueueViews(live, replay)).toEqual([]);
    // Round A's untouched searching entries are back in their pool.
    const searchingIds = [
      ...(await reader.snapshot(tenant, pools[0].key)),
      ...(await reader.snapshot(tenant, pools[1].key)),
    ].map((e) => e.entryId);
    expect(searchingIds).toEqual(expect.arrayContaining(searchingA.slice(7).map((e) => e.entryId)));
    expect(searchingIds).not.toContain(searchingA[0]!.entryId);
  }, 60_000);

  it('rebuilds them after a reconnect finds them gone, with no new event', async () => {
    await caughtUp();
    const replay = await replayViews();
    await deleteRedisPrefix(redis, prefix);
    projectorRedis.disconnect(true); // the projector's connection drops and comes back (to an "empty" Redis)
    await eventually(async () => expect(diffQueueViews(await dumpQueueViews(redis, prefix), replay)).toEqual([]));
  }, 30_000);

  it('survives PostgreSQL terminating its connections (idle and mid-batch) and keeps projecting', async () => {
    await caughtUp();
    const killAll = async () =>
      (
        await db.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          applicationName,
        ])
      ).rowCount ?? 0;

    // 1. Idle connections: the projector's read-model pool and the event store's pool and LISTEN.
    expect(await killAll()).toBeGreaterThanOrEqual(2);
    await load('c', 10);
    await caughtUp();

    // 2. A read-model batch in flight: hold it on a lock, then terminate its connection.
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      // SHARE blocks the batch's writes; unlike ACCESS EXCLUSIVE it takes no transaction id, which
      // would hold back the event store's delivery horizon (and so the event itself).
      await locker.query(`LOCK TABLE "${db.schema}".queue_entries IN SHARE MODE`);
      await join('d0', 0);
      await eventually(async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [applicationName],
        );
        expect(rows[0]!.n).toBeGreaterThan(0);
      });
      expect(await killAll()).toBeGreaterThanOrEqual(1);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await load('e', 10);
    await caughtUp();

    const { rows } = await db.pool.query<{ queue_entry_id: string; status: string }>(
      `SELECT queue_entry_id, status FROM "${db.schema}".queue_entries WHERE queue_entry_id IN ('e-d0', 'e-e4', 'e-e0')
       ORDER BY 1`,
    );
    expect(rows).toEqual([
      { queue_entry_id: 'e-d0', status: 'SEARCHING' },
      { queue_entry_id: 'e-e0', status: 'CANCELLED' },
      { queue_entry_id: 'e-e4', status: 'SEARCHING' },
    ]);
    expect(diffQueueViews(await dumpQueueViews(redis, prefix), await replayViews())).toEqual([]);
  }, 60_000);
});

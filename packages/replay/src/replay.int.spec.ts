import { loadConfig } from '@mm/config';
import { makePool, playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import type { EventStore, RecordedEvent } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { type Projector, readModelTables, startProjector } from '@mm/projections';
import { redisKeys } from '@mm/redis';
import { createTestRedis, createTestSchema, deleteRedisPrefix, randomRedisPrefix, type TestSchema } from '@mm/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanLog } from './log-scan.js';
import { compareQueueViews, rebuildQueueViews } from './queue-view-rebuild.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { diffReadModels } from './read-model-diff.js';
import { rebuildReadModels } from './read-model-rebuild.js';
import { swapReadModels } from './read-model-swap.js';
import { writeSyntheticLog } from './synthetic/synthetic-log.js';

let db: TestSchema;
let store: EventStore;
let redis: Redis;
let projector: Projector;
let live: string;
const prefix = randomRedisPrefix('replay');
const extraSchemas: string[] = [];

const allEvents = async (): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  await scanLog(store, (events) => void out.push(...events));
  return out;
};
const head = async () => (await allEvents()).at(-1)!.position;
const schema = (suffix: string) => {
  const name = `${db.schema}_${suffix}`;
  extraSchemas.push(name);
  return name;
};

beforeAll(async () => {
  db = await createTestSchema('replay');
  live = `${db.schema}_rm`;
  extraSchemas.push(live);
  store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
  redis = createTestRedis();
  await writeSyntheticLog(store, { events: 2500, tenants: 2, playersPerTenant: 60 });
  const config = loadConfig({
    DATABASE_URL: db.connectionString,
    READ_MODEL_SCHEMA: live,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  projector = await startProjector({ config, logger: pino({ level: 'silent' }), store });
  await projector.waitFor(await head());
});

afterAll(async () => {
  await projector?.close();
  await store?.close();
  for (const name of extraSchemas) await db.pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  const { rows } = await db.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [
    `${db.schema}_rm_old_%`,
  ]);
  for (const { nspname } of rows) await db.pool.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  await deleteRedisPrefix(redis, prefix);
  redis?.disconnect();
  await db?.drop();
});

describe('rebuild read models (blue/green)', () => {
  it('a rebuild into a fresh schema equals the live read models after a run', async () => {
    const target = schema('fresh');
    const result = await rebuildReadModels({ db: db.pool, store, schema: target, batchSize: 500 });
    expect(result.events).toBeGreaterThan(2000);
    expect(result.position).toBe(await readModelCheckpoint(db.pool, live));
    const diff = await diffReadModels(db.pool, live, target);
    expect(diff.tables.map((t) => t.rowsA)).toEqual(diff.tables.map((t) => t.rowsB));
    expect(diff.tables.every((t) => t.rowsA > 0)).toBe(true);
    expect(diff.differing).toBe(0);
    // where the time went, in order: the first page, the end of the fold, the last write, the deferred index builds
    const phases = result.phases!;
    expect(phases.firstPageMs).toBeGreaterThan(0);
    expect(phases.foldMs).toBeGreaterThanOrEqual(phases.firstPageMs);
    expect(phases.lastWriteMs).toBeGreaterThan(0);
    expect(phases.indexBuildMs).toBeGreaterThan(0); // a fresh schema defers its secondary indexes
    expect(phases.foldMs + phases.lastWriteMs + phases.indexBuildMs).toBeLessThanOrEqual(result.ms);
  });

  it('resumes from the checkpoint in the target schema after an interrupt', async () => {
    const target = schema('resumed');
    let folded = 0;
    const first = await rebuildReadModels({
      db: db.pool,
      store,
      schema: target,
      batchSize: 300,
      onProgress: ({ events }) => {
        folded = events;
      },
      shouldStop: () => folded >= 600, // an interrupt after the second page
    });
    expect(first.interrupted).toBe(true);
    expect(first.events).toBe(600);
    const second = await rebuildReadModels({ db: db.pool, store, schema: target, batchSize: 300 });
    expect(second.resumedFrom).toBe(first.position);
    expect(first.events + second.events).toBe((await allEvents()).length);
    expect((await diffReadModels(db.pool, live, target)).differing).toBe(0);
  });

  it('--to gives the read models as they were at an earlier position', async () => {
    const events = await allEvents();
    const cut = events[Math.floor(events.length / 2)]!;
    const before = events.filter((e) => e.position <= cut.position);
    const count = (type: string) => before.filter((e) => e.type === type).length;
    const target = schema('past');
    const result = await rebuildReadModels({ db: db.pool, store, schema: target, to: { position: cut.position } });
    expect(result.position).toBe(cut.position);
    const t = readModelTables(target);
    const { rows } = await db.pool.query<{ entries: string; matches: string; cancelled: string; challenges: string }>(
      `SELECT (SELECT count(*) FROM ${t.queueEntries}) AS entries, (SELECT count(*) FROM ${t.matches}) AS matches,
              (SELECT count(*) FROM ${t.queueEntries} WHERE status = 'CANCELLED') AS cancelled,
              (SELECT count(*) FROM ${t.challenges}) AS challenges`,
    );
    expect(rows[0]).toEqual({
      entries: String(count('QueueJoined')),
      matches: String(count('MatchCreated')),
      cancelled: String(count('QueueCancelled')),
      challenges: String(count('ChallengeIssued')),
    });
    expect((await diffReadModels(db.pool, live, target)).differing).toBeGreaterThan(0);
  });
});

describe('swap under live reads', () => {
  it('switches the live read models atomically: no read fails, none sees a half-built schema, the projector goes on', async () => {
    const rebuilt = schema('swap');
    await rebuildReadModels({ db: db.pool, store, schema: rebuilt });
    // A wrong row in the live schema, which the swap must replace with the log's truth.
    const t = readModelTables(live);
    await db.pool.query(
      `UPDATE ${t.matches} SET status = 'ABORTED' WHERE match_id = (SELECT min(match_id) FROM ${t.matches} WHERE status = 'GAME_CREATED')`,
    );
    const tampered = await db.pool.query<{ match_id: string }>(
      `SELECT match_id FROM ${t.matches} WHERE status = 'ABORTED' AND game_id IS NOT NULL`,
    );
    expect(tampered.rows).toHaveLength(1);

    let stop = false;
    const pool3 = makePool('3+0', 'rated');
    let joins = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const userId = `live-${i}`;
        const result = await handleCommand({
          store,
          streamName: playerStream('tenant-live', userId),
          decider: playerDecider,
          command: {
            type: 'JoinQueue',
            userId,
            queueEntryId: `e-live-${i}`,
            pool: pool3,
            rating: 1500,
            ratingSource: 'default',
            ratingRange: null,
            now: new Date().toISOString(),
          },
          metadata: {
            tenantId: 'tenant-live',
            correlationId: 'c',
            causationId: null,
            actor: { type: 'user', id: userId },
          },
        });
        if (!result.ok) throw new Error(result.error.code);
        joins++;
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const reads: { position: number; entries: number }[] = [];
    const failures: unknown[] = [];
    const reader = (async () => {
      while (!stop) {
        try {
          const { rows } = await db.pool.query<{ position: string; entries: string }>(
            `SELECT (SELECT position FROM ${t.checkpoints} WHERE name = 'read-models') AS position,
                    (SELECT count(*) FROM ${t.queueEntries}) AS entries`,
          );
          reads.push({ position: Number(rows[0]!.position), entries: Number(rows[0]!.entries) });
        } catch (error) {
          failures.push(error);
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const swap = await swapReadModels({ db: db.pool, store, live, rebuilt });
    const readsAtSwap = reads.length;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all([writer, reader]);
    extraSchemas.push(swap.oldSchema);

    expect(failures).toEqual([]);
    expect(joins).toBeGreaterThan(10);
    expect(readsAtSwap).toBeGreaterThan(10);
    expect(reads.length).toBeGreaterThan(readsAtSwap);
    // Every read saw exactly a prefix of the log: as many entries as QueueJoined events up to its checkpoint.
    await projector.waitFor(await head());
    const joinedPositions = (await allEvents()).filter((e) => e.type === 'QueueJoined').map((e) => e.position);
    const expected = (position: number) => joinedPositions.filter((p) => p <= position).length;
    const wrong = reads.filter((r) => r.entries !== expected(r.position));
    expect(wrong).toEqual([]);
    for (let i = 1; i < reads.length; i++) expect(reads[i]!.position).toBeGreaterThanOrEqual(reads[i - 1]!.position);
    // The live name now holds the rebuilt tables (the tampered row is the log's again), and the
    // projector kept applying to them after the swap.
    const after = await db.pool.query(`SELECT 1 FROM ${t.matches} WHERE status = 'ABORTED' AND game_id IS NOT NULL`);
    expect(after.rows).toHaveLength(0);
    expect(await readModelCheckpoint(db.pool, live)).toBe(await head());
    const check = schema('check');
    await rebuildReadModels({ db: db.pool, store, schema: check });
    expect((await diffReadModels(db.pool, live, check)).differing).toBe(0);
    // The old schema is kept for mm diff: it differs by the tampered row (and lags the writes).
    const old = await diffReadModels(db.pool, live, swap.oldSchema);
    expect(old.tables.find((x) => x.table === 'matches')!.rows.map((r) => r.key.match_id)).toContain(
      tampered.rows[0]!.match_id,
    );
  }, 30_000);
});

describe('rebuild queue views', () => {
  it('replays the log into another prefix without signalling pairing jobs, equal to the live views', async () => {
    const target = `${prefix}-rebuild`;
    try {
      const result = await rebuildQueueViews({ redis, store, prefix: target, livePrefix: prefix });
      expect(result.keys).toBeGreaterThan(0);
      const comparison = await compareQueueViews({ redis, store, prefix: target, livePrefix: prefix });
      expect(comparison.differences).toEqual([]);
      // Nothing but views under the rebuilt prefix: no BullMQ queue, no job.
      const stray: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${target}*`, 'COUNT', 1000);
        cursor = next;
        stray.push(...keys.filter((k) => !redisKeys(target).isCurrentQueueViewKey(k)));
      } while (cursor !== '0');
      expect(stray).toEqual([]);
      await expect(rebuildQueueViews({ redis, store, prefix, livePrefix: prefix })).rejects.toThrow(/live views/);
    } finally {
      await deleteRedisPrefix(redis, target);
    }
  });
});

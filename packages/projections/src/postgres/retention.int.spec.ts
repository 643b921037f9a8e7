import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateReadModels } from './migrate.js';
import { applyRetention, retentionCutoff, startRetentionJob, vacuumAfterRetention } from './retention.js';

let db: TestSchema;
const day = 86_400_000;
const now = Date.parse('2026-12-01T12:00:00Z');
const ago = (days: number) => new Date(now - days * day).toISOString();

async function entry(id: string, status: string, endedDaysAgo: number | null, gameId: string | null = null) {
  await db.pool.query(
    `INSERT INTO "${db.schema}".queue_entries (tenant_id, queue_entry_id, user_id, pool_key, time_control, mode, rating,
       rating_source, status, enqueued_at, ended_at, game_id, last_position)
     VALUES ('t', $1, 'u-' || $1, '3+0:rated', '3+0', 'rated', 1500, 'default', $2, $3, $4, $5, 1)`,
    [id, status, ago((endedDaysAgo ?? 0) + 1), endedDaysAgo === null ? null : ago(endedDaysAgo), gameId],
  );
}

async function match(id: string, status: string, finishedDaysAgo: number | null) {
  await db.pool.query(
    `INSERT INTO "${db.schema}".matches (tenant_id, match_id, source, pool_key, time_control, mode, white_user_id,
       black_user_id, white_rating, black_rating, rating_gap, status, decided_at, finished_at, last_position)
     VALUES ('t', $1, 'queue', '3+0:rated', '3+0', 'rated', 'a', 'b', 1500, 1500, 0, $2, $3, $4, 1)`,
    [id, status, ago((finishedDaysAgo ?? 0) + 0.001), finishedDaysAgo === null ? null : ago(finishedDaysAgo)],
  );
}

async function challenge(id: string, status: string, endedDaysAgo: number | null) {
  await db.pool.query(
    `INSERT INTO "${db.schema}".challenges (tenant_id, challenge_id, challenger_id, opponent_id, time_control, mode, color,
       status, created_at, expires_at, ended_at, last_position)
     VALUES ('t', $1, 'a', 'b', '3+0', 'rated', 'random', $2, $3, $3, $4, 1)`,
    [id, status, ago((endedDaysAgo ?? 0) + 0.01), endedDaysAgo === null ? null : ago(endedDaysAgo)],
  );
}

const ids = async (table: string, key: string) =>
  (await db.pool.query<{ id: string }>(`SELECT ${key} AS id FROM "${db.schema}".${table} ORDER BY 1`)).rows.map(
    (r) => r.id,
  );

beforeAll(async () => {
  db = await createTestSchema('retention');
  await migrateReadModels(db.pool, db.schema);
  // Old and ended: removed. Old but still in flight, or recent: kept.
  await entry('e-cancelled-old', 'CANCELLED', 9);
  await entry('e-timedout-old', 'TIMED_OUT', 8);
  await entry('e-game-old', 'MATCHED', 10, 'g1');
  await entry('e-claimed-old', 'MATCHED', 10, null); // claimed, no game yet: in flight
  await entry('e-searching', 'SEARCHING', null);
  await entry('e-cancelled-new', 'CANCELLED', 2);
  await match('m-game-old', 'GAME_CREATED', 9);
  await match('m-aborted-old', 'ABORTED', 30);
  await match('m-creating', 'CREATING_GAME', null);
  await match('m-game-new', 'GAME_CREATED', 1);
  await challenge('c-declined-old', 'DECLINED', 12);
  await challenge('c-pending', 'PENDING', null);
  await challenge('c-expired-new', 'EXPIRED', 3);
  for (let i = 0; i < 7; i++) await entry(`e-bulk-${i}`, 'CANCELLED', 20 + i);
});

afterAll(async () => {
  await db.drop();
});

describe('read-model retention', () => {
  it('removes only rows that ended before the cutoff, in batches, and records the cutoff', async () => {
    const cutoff = new Date(now - 7 * day);
    const run = await applyRetention(db.pool, db.schema, { cutoff, batchSize: 3 });
    expect(run.deleted).toEqual({ queueEntries: 10, matches: 2, challenges: 1 });
    expect(run.batches).toBeGreaterThanOrEqual(4 + 1 + 1); // 10 entries in batches of 3, then matches, challenges
    expect(await ids('queue_entries', 'queue_entry_id')).toEqual(['e-cancelled-new', 'e-claimed-old', 'e-searching']);
    expect(await ids('matches', 'match_id')).toEqual(['m-creating', 'm-game-new']);
    expect(await ids('challenges', 'challenge_id')).toEqual(['c-expired-new', 'c-pending']);
    expect((await retentionCutoff(db.pool, db.schema))?.toISOString()).toBe(cutoff.toISOString());
    // An earlier cutoff never moves the recorded one back.
    await applyRetention(db.pool, db.schema, { cutoff: new Date(now - 30 * day) });
    expect((await retentionCutoff(db.pool, db.schema))?.toISOString()).toBe(cutoff.toISOString());
  });

  it('skips a row another transaction holds instead of waiting for it (the projector never waits on retention)', async () => {
    await entry('e-locked', 'CANCELLED', 40);
    await entry('e-free', 'CANCELLED', 40);
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${db.schema}".queue_entries WHERE queue_entry_id = 'e-locked' FOR UPDATE`);
      const started = Date.now();
      const run = await applyRetention(db.pool, db.schema, { cutoff: new Date(now - 7 * day), batchSize: 10 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(run.deleted.queueEntries).toBe(1);
      const left = await ids('queue_entries', 'queue_entry_id');
      expect(left).toContain('e-locked');
      expect(left).not.toContain('e-free');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const again = await applyRetention(db.pool, db.schema, { cutoff: new Date(now - 7 * day) });
    expect(again.deleted.queueEntries).toBe(1);
  });

  it('the job runs on its timer with cutoff = now − retention days, and stops', async () => {
    await entry('e-ancient', 'TIMED_OUT', 3000);
    const runs: number[] = [];
    const job = startRetentionJob({
      db: db.pool,
      schema: db.schema,
      retentionDays: 1000,
      intervalMs: 60_000,
      batchSize: 100,
      firstDelayMs: 10,
      onRun: (run) => runs.push(run.deleted.queueEntries),
    });
    const deadline = Date.now() + 5000;
    while (runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await job.stop();
    expect(runs).toEqual([1]);
    expect(await ids('queue_entries', 'queue_entry_id')).not.toContain('e-ancient');
  });

  it('vacuums the tables a run deleted from, so the freed space is reused (the table does not grow)', async () => {
    const size = async () =>
      Number((await db.pool.query(`SELECT pg_relation_size('"${db.schema}".queue_entries') AS n`)).rows[0].n);
    const fill = async (round: number) => {
      for (let i = 0; i < 300; i++) await entry(`v-${round}-${i}`, 'CANCELLED', 100);
    };
    await fill(0);
    const run = await applyRetention(db.pool, db.schema, { cutoff: new Date(now - 7 * day) });
    expect(await vacuumAfterRetention(db.pool, db.schema, run)).toEqual([`"${db.schema}".queue_entries`]);
    const afterFirst = await size();
    for (let round = 1; round <= 3; round++) {
      await fill(round);
      await vacuumAfterRetention(
        db.pool,
        db.schema,
        await applyRetention(db.pool, db.schema, { cutoff: new Date(now - 7 * day) }),
      );
    }
    expect(await size()).toBeLessThanOrEqual(afterFirst);
  });
});

import { randomUUID } from 'node:crypto';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { READ_MODEL_TABLE_DECLARATIONS } from '@mm/projections';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_INDEXES } from './read-model-bulk.js';
import { readModelCheckpoint } from './read-model-checkpoint.js';
import { diffReadModels } from './read-model-diff.js';
import { type RebuildReadModelsOptions, rebuildReadModels } from './read-model-rebuild.js';
import { writeSyntheticLog } from './synthetic/synthetic-log.js';

/**
 * The bulk rebuild (rows folded in memory, written with COPY) against the projector's own
 * handlers, statement by statement: the same logs rebuilt both ways give the same rows —
 * compared with `mm diff`'s code and, for `last_position` (bookkeeping, left out of diffs),
 * table against table — in every shape of the bulk path: one batch, small batches (rows
 * updated across batches), rows dropped from memory and read back, interrupted and resumed.
 */

let db: TestSchema;
let handWritten: EventStore;
let synthetic: EventStore;
const schemas: string[] = [];

const schema = (suffix: string) => {
  const name = `${db.schema}_${suffix}`;
  schemas.push(name);
  return name;
};

/** A log that takes every handler through its cases, by hand (tenant t1 and t2). */
async function writeHandLog(store: EventStore): Promise<void> {
  let clock = Date.parse('2026-03-01T10:00:00.000Z');
  const now = () => new Date(clock).toISOString();
  const append = async (stream: string, type: string, data: Record<string, unknown>, tenantId = 't1', v = 1) => {
    clock += 1000;
    await store.appendToStream(stream, [
      {
        id: randomUUID(),
        type,
        schemaVersion: v,
        data: data as never,
        metadata: { tenantId, correlationId: randomUUID(), causationId: null, actor: { type: 'service', id: 'test' } },
      },
    ]);
  };
  const pool = { key: '3+0:rated', timeControl: '3+0', mode: 'rated' };
  const join = (user: string, entry: string, rating = 1500, tenantId = 't1', range: object | null = null) =>
    append(
      `player-${tenantId}:${user}`,
      'QueueJoined',
      {
        userId: user,
        queueEntryId: entry,
        pool,
        rating,
        ratingSource: 'default',
        ratingRange: range,
        enqueuedAt: now(),
      },
      tenantId,
    );
  const claim = (user: string, entry: string, matchId: string, opponent: string, opponentEntry: string) =>
    append(`player-t1:${user}`, 'QueueEntryMatched', {
      userId: user,
      queueEntryId: entry,
      matchId,
      opponent: { userId: opponent, queueEntryId: opponentEntry, rating: 1500 },
      matchedAt: now(),
    });
  const side = (user: string, entry: string | null, rating = 1500) => ({
    userId: user,
    queueEntryId: entry,
    rating,
    window: { low: rating - 100, high: rating + 100 },
    waitMs: 0,
  });
  const matchCreated = (matchId: string, white: object, black: object, challengeId?: string) =>
    append(`match-${matchId}`, 'MatchCreated', {
      matchId,
      source: challengeId ? 'challenge' : 'queue',
      ...(challengeId ? { challengeId } : {}),
      pool,
      white,
      black,
      ratingGap: 40,
      weight: challengeId ? null : 1,
      algorithmVersion: challengeId ? null : 'test',
      colourReason: 'random',
      decidedAt: now(),
    });
  const gameCreated = (matchId: string, gameId: string) =>
    append(`match-${matchId}`, 'GameCreated', { matchId, gameId, createdAt: now() });
  const started = (user: string, entry: string | null, matchId: string, gameId: string, colour: string) =>
    append(`player-t1:${user}`, 'QueueEntryGameStarted', {
      userId: user,
      queueEntryId: entry,
      matchId,
      gameId,
      colour,
      startedAt: now(),
    });
  const issue = (id: string, from: string, to: string, message: string | null, v = 2) =>
    append(
      `challenge-${id}`,
      'ChallengeIssued',
      {
        challengeId: id,
        challengerId: from,
        opponentId: to,
        timeControl: '3+0',
        mode: 'rated',
        message,
        issuedAt: now(),
        expiresAt: new Date(clock + 60_000).toISOString(),
        ...(v === 1 ? { colour: 'white' } : { challengerColour: 'random' }),
      },
      't1',
      v,
    );

  // Queue: searching, cancelled, timed out (tenant t2 reuses an entry id of t1).
  await join('ann', 'e-ann', 1500, 't1', { min: 1400, max: 1700 });
  await join('bob', 'e-bob', 1540);
  await join('cid', 'e-cid', 1620);
  await join('ann', 'e-ann', 1999, 't2');
  // Rating ranges with a key the schema does not know (zod strips it, the fold reads the data as
  // stored), or one bound only: the same value both ways.
  await join('kim', 'e-kim', 1500, 't2', { max: 1900, min: 1300, note: 'not in the schema' });
  await join('lou', 'e-lou', 1500, 't2', { max: 1800 });
  await append('player-t1:cid', 'QueueCancelled', {
    userId: 'cid',
    queueEntryId: 'e-cid',
    reason: 'user',
    cancelledAt: now(),
  });
  await join('dan', 'e-dan', 1400);
  await append('player-t1:dan', 'QueueTimedOut', {
    userId: 'dan',
    queueEntryId: 'e-dan',
    waitedMs: 600_000,
    timedOutAt: now(),
  });
  // The same QueueJoined entry id again: ON CONFLICT DO NOTHING.
  await join('dan', 'e-dan', 2222);
  // A cancel of an entry nobody joined: no row.
  await append('player-t1:eve', 'QueueCancelled', {
    userId: 'eve',
    queueEntryId: 'e-nobody',
    reason: 'user',
    cancelledAt: now(),
  });
  // Queue match with a game: claims before MatchCreated (colours from the match), then the game.
  await claim('ann', 'e-ann', 'm1', 'bob', 'e-bob');
  await claim('bob', 'e-bob', 'm1', 'ann', 'e-ann');
  await matchCreated('m1', side('bob', 'e-bob', 1540), side('ann', 'e-ann'));
  await gameCreated('m1', 'g1');
  await started('bob', 'e-bob', 'm1', 'g1', 'white');
  await started('ann', 'e-ann', 'm1', 'g1', 'black');
  // Aborted match: both entries released and searching again, then one matched again.
  await join('fay', 'e-fay');
  await join('gus', 'e-gus');
  await claim('fay', 'e-fay', 'm2', 'gus', 'e-gus');
  await claim('gus', 'e-gus', 'm2', 'fay', 'e-fay');
  await matchCreated('m2', side('fay', 'e-fay'), side('gus', 'e-gus'));
  await append('match-m2', 'MatchAborted', {
    matchId: 'm2',
    reason: 'game_creation_failed',
    attempts: 6,
    detail: null,
    abortedAt: now(),
  });
  for (const [user, entry] of [
    ['fay', 'e-fay'],
    ['gus', 'e-gus'],
  ] as const)
    await append(`player-t1:${user}`, 'QueueEntryReleased', {
      userId: user,
      queueEntryId: entry,
      matchId: 'm2',
      reason: 'match_aborted',
      releasedAt: now(),
    });
  await join('hal', 'e-hal');
  await claim('fay', 'e-fay', 'm3', 'hal', 'e-hal');
  // MatchCreated after only one claim: the other entry (claimed later) gets no colour from it.
  await matchCreated('m3', side('hal', 'e-hal'), side('fay', 'e-fay'));
  await claim('hal', 'e-hal', 'm3', 'fay', 'e-fay');
  // Challenges: declined, cancelled, expired, a v1 one (upcast), an accepted one that holds a
  // searching entry, is released, accepted again, and gets its game.
  await issue('c1', 'ann', 'bob', 'tab\there, back\\slash, new\nline');
  await append('challenge-c1', 'ChallengeDeclined', { challengeId: 'c1', reason: 'too_fast', declinedAt: now() });
  await issue('c2', 'ann', 'cid', null);
  await append('challenge-c2', 'ChallengeCancelled', { challengeId: 'c2', reason: 'challenger', cancelledAt: now() });
  await issue('c3', 'bob', 'cid', 'v1', 1);
  await append('challenge-c3', 'ChallengeExpired', { challengeId: 'c3', expiredAt: now() });
  await issue('c4', 'gus', 'ivy', 'gg');
  const claimChallenge = (user: string, opponent: string, held: string | null, matchId: string) =>
    append(`player-t1:${user}`, 'ChallengeMatchClaimed', {
      userId: user,
      challengeId: 'c4',
      matchId,
      role: user === 'gus' ? 'challenger' : 'opponent',
      opponentId: opponent,
      heldQueueEntryId: held,
      claimedAt: now(),
    });
  const releaseChallenge = (user: string, matchId: string) =>
    append(`player-t1:${user}`, 'ChallengeMatchReleased', {
      userId: user,
      challengeId: 'c4',
      matchId,
      reason: 'opponent_unavailable',
      releasedAt: now(),
    });
  await claimChallenge('gus', 'ivy', 'e-gus', 'm4');
  await claimChallenge('ivy', 'gus', null, 'm4');
  await releaseChallenge('gus', 'm4');
  await releaseChallenge('ivy', 'm4');
  await claimChallenge('gus', 'ivy', 'e-gus', 'm5');
  await append('challenge-c4', 'ChallengeAccepted', { challengeId: 'c4', matchId: 'm5', acceptedAt: now() });
  await matchCreated('m5', side('gus', null), side('ivy', null), 'c4');
  await gameCreated('m5', 'g5');
  await started('gus', null, 'm5', 'g5', 'white');
  // Events that touch no read model, and a GameCreated for a match nobody knows.
  await gameCreated('m-unknown', 'g-unknown');
}

beforeAll(async () => {
  db = await createTestSchema('rm_fold');
  handWritten = await createPostgresEventStore({
    connectionString: db.connectionString,
    schema: `${db.schema}_hand`,
    poolSize: 2,
  });
  schemas.push(`${db.schema}_hand`);
  synthetic = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  await writeHandLog(handWritten);
  await writeSyntheticLog(synthetic, { events: 3000, tenants: 2, playersPerTenant: 40 });
}, 120_000);

afterAll(async () => {
  await handWritten?.close();
  await synthetic?.close();
  for (const name of schemas) await db?.pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  await db?.drop();
});

/** Every row of every read-model table, `last_position` included, in key order. */
async function allRows(name: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of READ_MODEL_TABLE_DECLARATIONS) {
    const { rows } = await db.pool.query(`SELECT * FROM "${name}".${t.name} ORDER BY ${t.key.join(', ')}`);
    out[t.name] = rows;
  }
  return out;
}

const indexes = async (name: string) =>
  (
    await db.pool.query<{ name: string }>('SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 ORDER BY 1', [
      name,
    ])
  ).rows.map((r) => r.name);

/** Rebuilds `store` with the handlers and in bulk (`options`), and checks both are the same. */
async function expectSameBothWays(store: EventStore, label: string, bulk: Partial<RebuildReadModelsOptions>[]) {
  const reference = schema(`${label}_h`);
  const byHandlers = await rebuildReadModels({ db: db.pool, store, schema: reference, method: 'handlers' });
  const rows = await allRows(reference);
  expect(Object.values(rows).every((r) => r.length > 0)).toBe(true);
  for (const [i, options] of bulk.entries()) {
    const target = schema(`${label}_b${i}`);
    let result = await rebuildReadModels({ db: db.pool, store, schema: target, ...options });
    while (result.interrupted)
      result = await rebuildReadModels({ db: db.pool, store, schema: target, ...options, shouldStop: () => false });
    expect(result.position, JSON.stringify(options)).toBe(byHandlers.position);
    const diff = await diffReadModels(db.pool, reference, target);
    expect(diff.differing, JSON.stringify(diff.tables.flatMap((t) => t.rows))).toBe(0);
    expect(await allRows(target), JSON.stringify(options)).toEqual(rows);
    expect(await readModelCheckpoint(db.pool, target)).toBe(byHandlers.position);
    expect(await indexes(target)).toEqual(await indexes(reference));
  }
  return { reference, rows };
}

/** The shapes of the bulk path: one batch; small batches; rows dropped from memory; interrupted every second batch. */
const shapes = (small: number): Partial<RebuildReadModelsOptions>[] => {
  let batches = 0;
  return [
    {},
    { batchSize: small },
    { batchSize: small, maxRowsInMemory: 4 },
    { batchSize: small, shouldStop: () => ++batches % 2 === 0 },
  ];
};

describe('bulk rebuild = the projector handlers', () => {
  it('a hand-written log that takes every handler through its cases', async () => {
    const { rows } = await expectSameBothWays(handWritten, 'hand', shapes(3));
    // The cases are there (so the comparison is not of empty or trivial tables).
    const entries = rows.queue_entries as { queue_entry_id: string; tenant_id: string; [k: string]: unknown }[];
    const entry = (id: string) => entries.find((e) => e.tenant_id === 't1' && e.queue_entry_id === id)!;
    expect(entry('e-bob')).toMatchObject({ status: 'MATCHED', colour: 'white', game_id: 'g1', match_id: 'm1' });
    expect(entry('e-dan')).toMatchObject({ status: 'TIMED_OUT', rating: 1400 });
    expect(entry('e-gus')).toMatchObject({ status: 'SEARCHING', held_by_match_id: 'm5', match_id: null });
    expect(entry('e-fay')).toMatchObject({ status: 'MATCHED', match_id: 'm3', colour: 'black' });
    expect(entry('e-hal')).toMatchObject({ status: 'MATCHED', match_id: 'm3', colour: null });
    expect(entries.filter((e) => e.queue_entry_id === 'e-ann')).toHaveLength(2);
    const challenges = rows.challenges as { challenge_id: string; [k: string]: unknown }[];
    expect(challenges.find((c) => c.challenge_id === 'c4')).toMatchObject({ status: 'ACCEPTED', game_id: 'g5' });
    expect(challenges.find((c) => c.challenge_id === 'c1')?.message).toBe('tab\there, back\\slash, new\nline');
    expect(challenges.find((c) => c.challenge_id === 'c3')?.color).toBe('white');
  });

  it('a log written by the deciders (synthetic, 3000 events)', async () => {
    await expectSameBothWays(synthetic, 'synth', shapes(400));
  });

  it('an interrupted bulk rebuild keeps its indexes deferred and resumes to the same rows', async () => {
    const target = schema('interrupted');
    const first = await rebuildReadModels({
      db: db.pool,
      store: synthetic,
      schema: target,
      batchSize: 500,
      shouldStop: () => true,
    });
    expect(first).toMatchObject({ interrupted: true, events: 500 });
    // while deferred: the primary keys and the partial indexes of passing states, nothing else
    const during = await indexes(target);
    expect(during.filter((name) => !name.endsWith('_pkey')).sort()).toEqual([...LIVE_INDEXES].sort());
    // The handlers can resume it as well: they build the deferred indexes first.
    const second = await rebuildReadModels({ db: db.pool, store: synthetic, schema: target, method: 'handlers' });
    expect(second.resumedFrom).toBe(first.position);
    const reference = schema('interrupted_ref');
    await rebuildReadModels({ db: db.pool, store: synthetic, schema: reference, method: 'handlers' });
    expect(await allRows(target)).toEqual(await allRows(reference));
    expect(await indexes(target)).toEqual(await indexes(reference));
  });

  it('a bulk rebuild reports every page folded, and an interrupt mid-batch commits what is folded', async () => {
    const target = schema('midbatch');
    const seen: number[] = [];
    const first = await rebuildReadModels({
      db: db.pool,
      store: synthetic,
      schema: target,
      batchSize: 5000, // pages of 2000: the interrupt comes inside the first batch
      onProgress: ({ events }) => seen.push(events),
      shouldStop: () => seen.length > 0,
    });
    expect(seen).toEqual([2000]);
    expect(first).toMatchObject({ interrupted: true, events: 2000 });
    expect(await readModelCheckpoint(db.pool, target)).toBe(first.position);
    const progress: number[] = [];
    const second = await rebuildReadModels({
      db: db.pool,
      store: synthetic,
      schema: target,
      onProgress: ({ events }) => progress.push(events),
    });
    const reference = schema('midbatch_ref');
    const whole = await rebuildReadModels({ db: db.pool, store: synthetic, schema: reference, method: 'handlers' });
    expect(whole.events).toBeGreaterThan(2000);
    expect(whole.events).toBeLessThan(4000);
    expect(second).toMatchObject({ resumedFrom: first.position, interrupted: false, events: whole.events - 2000 });
    expect(progress).toEqual([whole.events - 2000]); // one page
    expect(await allRows(target)).toEqual(await allRows(reference));
  });

  it('a stored event whose data breaks its contract stops the rebuild with the contract error, both ways', async () => {
    const bad = await createPostgresEventStore({
      connectionString: db.connectionString,
      schema: schema('bad_log'),
      poolSize: 2,
    });
    try {
      const joined = (userId: string, rating: unknown) => ({
        id: randomUUID(),
        type: 'QueueJoined',
        data: {
          userId,
          queueEntryId: `e-${userId}`,
          pool: { key: '3+0:rated', timeControl: '3+0', mode: 'rated' },
          rating,
          ratingSource: 'default',
          ratingRange: null,
          enqueuedAt: '2026-03-01T10:00:00.000Z',
        } as never,
        metadata: {
          tenantId: 't1',
          correlationId: randomUUID(),
          causationId: null,
          actor: { type: 'service' as const, id: 'test' },
        },
      });
      await bad.appendToStream('player-t1:ann', [joined('ann', 1500)]);
      await bad.appendToStream('player-t1:bob', [joined('bob', 'high')]);
      for (const method of ['bulk', 'handlers'] as const) {
        const target = schema(`bad_${method}`);
        await expect(rebuildReadModels({ db: db.pool, store: bad, schema: target, method })).rejects.toThrow(
          /invalid QueueJoined v1 data: .*rating/s,
        );
        expect(await readModelCheckpoint(db.pool, target)).toBe(-1);
      }
    } finally {
      await bad.close();
    }
  });

  it('the comparison sees a changed row (the test can fail)', async () => {
    const reference = schema('tamper_h');
    const target = schema('tamper_b');
    await rebuildReadModels({ db: db.pool, store: handWritten, schema: reference, method: 'handlers' });
    await rebuildReadModels({ db: db.pool, store: handWritten, schema: target });
    await db.pool.query(`UPDATE "${target}".queue_entries SET colour = 'black' WHERE queue_entry_id = 'e-bob'`);
    expect((await diffReadModels(db.pool, reference, target)).differing).toBe(1);
  });
});

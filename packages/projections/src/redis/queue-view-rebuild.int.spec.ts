import { randomUUID } from 'node:crypto';
import { makePool, matchStream, type Pool, playerStream } from '@mm/contracts';
import type { EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { createTestRedis, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RebuiltEvent, runProjection } from '../runner/projection-runner.js';
import { diffQueueViews, dumpQueueViews } from './queue-view-dump.js';
import { createQueueViewProjection } from './queue-view-projection.js';

/*
 * The fast rebuild (the log folded in memory, queue-view-rebuild.ts) must leave exactly the
 * views the per-event path leaves (the Lua scripts, event by event): generated logs with joins,
 * cancels, time-outs, claims, releases, game starts, challenge holds and releases, matches (more
 * than the recent lists keep), redelivered events, events of other types and events for entries
 * the log never created; the views compared key for key, for several seeds.
 */

let redis: Redis;
beforeAll(() => {
  redis = createTestRedis();
});
afterAll(() => {
  redis?.disconnect();
});

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const POOLS: Pool[] = [makePool('3+0', 'rated'), makePool('5+3', 'rated'), makePool('10+0', 'casual')];

interface Entry {
  tenantId: string;
  userId: string;
  entryId: string;
  pool: Pool;
  rating: number;
  status: 'SEARCHING' | 'MATCHED' | 'HELD' | 'ENDED';
}

type Append = { stream: string; tenantId: string; type: string; data: Record<string, unknown> };

/**
 * Appends a generated log of about `events` events to `store`. Not everything is what the
 * deciders would allow (a second join while an entry searches, releases of entries that were
 * never claimed, redeliveries): the views must fold whatever the log holds the same way.
 */
async function generateLog(store: EventStore, seed: number, events: number): Promise<void> {
  const rnd = random(seed);
  const tenants = ['t-a', 't-b'];
  const users = (tenantId: string) => Array.from({ length: 12 }, (_, i) => ({ tenantId, userId: `u${i}` }));
  const everyone = tenants.flatMap(users);
  const entries: Entry[] = [];
  const active = new Map<string, Entry>(); // tenant/user → current entry
  const written: Append[] = [];
  /** Follow-ups that happen later (a game start after its claims, a release after a hold). */
  let later: Append[][] = [];
  let clock = Date.parse('2026-11-01T00:00:00Z');
  let n = 0;
  const at = () => {
    clock += 1 + rnd.int(4000);
    return new Date(clock).toISOString();
  };
  const id = (what: string) => `${what}-${seed}-${n++}`;

  const append = async (a: Append) => {
    written.push(a);
    await store.appendToStream(a.stream, [
      {
        id: randomUUID(),
        type: a.type,
        data: a.data as never,
        metadata: {
          tenantId: a.tenantId,
          correlationId: 'c',
          causationId: null,
          actor: { type: 'service', id: 'gen' },
        },
      },
    ]);
  };
  const player = (e: { tenantId: string; userId: string }, type: string, data: Record<string, unknown>): Append => ({
    stream: playerStream(e.tenantId, e.userId),
    tenantId: e.tenantId,
    type,
    data: { userId: e.userId, ...data },
  });
  const searching = () => entries.filter((e) => e.status === 'SEARCHING');
  const side = (e: { userId: string; entryId?: string; rating: number }, challenge: boolean) => ({
    userId: e.userId,
    queueEntryId: challenge ? null : (e.entryId ?? null),
    rating: e.rating,
    window: challenge ? null : { low: e.rating - 150, high: e.rating + 150 },
    waitMs: rnd.int(60_000),
  });
  const matchCreated = (
    tenantId: string,
    matchId: string,
    pool: Pool,
    white: Parameters<typeof side>[0],
    black: Parameters<typeof side>[0],
    challengeId?: string,
  ): Append => ({
    stream: matchStream(matchId),
    tenantId,
    type: 'MatchCreated',
    data: {
      matchId,
      source: challengeId ? 'challenge' : 'queue',
      ...(challengeId ? { challengeId } : {}),
      pool,
      white: side(white, challengeId !== undefined),
      black: side(black, challengeId !== undefined),
      ratingGap: Math.abs(white.rating - black.rating),
      weight: challengeId ? null : 1,
      algorithmVersion: challengeId ? null : 'v1',
      colourReason: 'random',
      decidedAt: at(),
    },
  });

  const actions: [number, () => Append[]][] = [
    [
      // join (sometimes while the user already has an entry)
      6,
      () => {
        const u = rnd.pick(everyone);
        const key = `${u.tenantId}/${u.userId}`;
        if (active.has(key) && !rnd.chance(0.1)) return [];
        const rating = rnd.chance(0.3) ? 1000 + rnd.int(1000) + rnd.int(100) / 8 : 1000 + rnd.int(1000);
        const e: Entry = { ...u, entryId: id('e'), pool: rnd.pick(POOLS), rating, status: 'SEARCHING' };
        entries.push(e);
        active.set(key, e);
        const range = rnd.pick([null, { min: 900 }, { max: 1900 }, { min: 1000, max: 1800 }]);
        return [
          player(u, 'QueueJoined', {
            queueEntryId: e.entryId,
            pool: e.pool,
            rating,
            ratingSource: rnd.pick(['rating-api', 'fallback', 'default']),
            ratingRange: range,
            enqueuedAt: at(),
          }),
        ];
      },
    ],
    [
      // cancel or time out a searching entry
      2,
      () => {
        const e = rnd.pick(searching());
        if (!e) return [];
        e.status = 'ENDED';
        return rnd.chance(0.5)
          ? [player(e, 'QueueCancelled', { queueEntryId: e.entryId, reason: 'user', cancelledAt: at() })]
          : [player(e, 'QueueTimedOut', { queueEntryId: e.entryId, waitedMs: rnd.int(600_000), timedOutAt: at() })];
      },
    ],
    [
      // a queue match: two claims and MatchCreated now; the game starts or the claims are released later
      4,
      () => {
        const pool = rnd.pick(POOLS);
        const tenantId = rnd.pick(tenants);
        const candidates = searching().filter((e) => e.pool.key === pool.key && e.tenantId === tenantId);
        if (candidates.length < 2) return [];
        const a = candidates[rnd.int(candidates.length)]!;
        const b = candidates.filter((e) => e.userId !== a.userId)[0];
        if (!b) return [];
        const matchId = id('m');
        const claims = [a, b].map((e, i) => {
          e.status = 'MATCHED';
          const other = i === 0 ? b : a;
          return player(e, 'QueueEntryMatched', {
            queueEntryId: e.entryId,
            matchId,
            opponent: { userId: other.userId, queueEntryId: other.entryId, rating: other.rating },
            matchedAt: at(),
          });
        });
        const game = rnd.chance(0.6);
        const followUp = [a, b].map((e, i) =>
          game
            ? player(e, 'QueueEntryGameStarted', {
                queueEntryId: e.entryId,
                matchId,
                gameId: `g-${matchId}`,
                colour: i === 0 ? 'white' : 'black',
                startedAt: at(),
              })
            : player(e, 'QueueEntryReleased', {
                queueEntryId: e.entryId,
                matchId,
                reason: rnd.pick(['opponent_unavailable', 'match_aborted']),
                releasedAt: at(),
              }),
        );
        later.push(
          followUp.map((f) => ({ ...f })),
          game ? [] : [],
        );
        for (const e of [a, b]) {
          if (game) active.delete(`${e.tenantId}/${e.userId}`);
          e.status = game ? 'ENDED' : 'SEARCHING';
        }
        const out = [...claims, matchCreated(tenantId, matchId, pool, a, b)];
        if (game)
          out.push({
            stream: matchStream(matchId),
            tenantId,
            type: 'GameCreated',
            data: { matchId, gameId: `g-${matchId}`, createdAt: at() },
          });
        return out;
      },
    ],
    [
      // a challenge match: both players claimed (a searching entry held), then released or started
      3,
      () => {
        const tenantId = rnd.pick(tenants);
        const [x, y] = [rnd.pick(users(tenantId)), rnd.pick(users(tenantId))];
        if (x.userId === y.userId) return [];
        const matchId = id('cm');
        const challengeId = id('c');
        const sides = [x, y].map((u) => {
          const e = active.get(`${u.tenantId}/${u.userId}`);
          const hold = e && e.status === 'SEARCHING' && rnd.chance(0.8) ? e : undefined;
          if (hold) hold.status = 'HELD';
          return { u, hold, rating: hold?.rating ?? 1500 };
        });
        const claims = sides.map(({ u, hold }, i) =>
          player(u, 'ChallengeMatchClaimed', {
            challengeId,
            matchId,
            role: i === 0 ? 'challenger' : 'opponent',
            opponentId: i === 0 ? y.userId : x.userId,
            heldQueueEntryId: hold?.entryId ?? null,
            claimedAt: at(),
          }),
        );
        const started = rnd.chance(0.5);
        const followUp = sides.flatMap(({ u, hold }, i) => {
          if (!started) {
            if (hold) hold.status = 'SEARCHING';
            return [
              player(u, 'ChallengeMatchReleased', {
                challengeId,
                matchId,
                reason: rnd.pick(['challenge_not_accepted', 'opponent_unavailable', 'match_aborted']),
                releasedAt: at(),
              }),
            ];
          }
          const out = [
            player(u, 'QueueEntryGameStarted', {
              queueEntryId: null,
              matchId,
              gameId: `g-${matchId}`,
              colour: i === 0 ? 'white' : 'black',
              startedAt: at(),
            }),
          ];
          if (hold) {
            hold.status = 'ENDED';
            active.delete(`${u.tenantId}/${u.userId}`);
            out.unshift(
              player(u, 'QueueCancelled', {
                queueEntryId: hold.entryId,
                reason: 'challenge_accepted',
                cancelledAt: at(),
              }),
            );
          }
          return out;
        });
        const out = [...claims];
        if (started)
          out.push(
            matchCreated(
              tenantId,
              matchId,
              rnd.pick(POOLS),
              { userId: x.userId, rating: sides[0]!.rating },
              { userId: y.userId, rating: sides[1]!.rating },
              challengeId,
            ),
          );
        // Released at once (same batch) or later.
        if (rnd.chance(0.3)) out.push(...followUp);
        else later.push(followUp);
        return out;
      },
    ],
    [
      // a follow-up that was waiting
      4,
      () => {
        if (later.length === 0) return [];
        const i = rnd.int(later.length);
        const [picked] = later.splice(i, 1);
        return picked!;
      },
    ],
    [
      // a redelivered event (the same change once more, at a later position)
      1,
      () => (written.length ? [{ ...rnd.pick(written) }] : []),
    ],
    [
      // a challenge match's release once more, when its held entry may be matched or searching by now
      0.5,
      () => {
        const releases = written.filter((a) => a.type === 'ChallengeMatchReleased');
        return releases.length ? [{ ...rnd.pick(releases) }] : [];
      },
    ],
    [
      // an event the views do not project, or one for an entry / a hold the log never created
      0.05,
      () =>
        rnd.chance(0.5)
          ? [
              {
                stream: matchStream('m-noise'),
                tenantId: 't-a',
                type: 'GameCreated',
                data: { matchId: 'm-noise', gameId: id('g'), createdAt: at() },
              },
            ]
          : rnd.chance(0.5)
            ? [
                player(rnd.pick(everyone), 'QueueEntryReleased', {
                  queueEntryId: id('ghost'),
                  matchId: 'm-x',
                  reason: 'match_aborted',
                  releasedAt: at(),
                }),
              ]
            : [
                player(rnd.pick(everyone), 'ChallengeMatchReleased', {
                  challengeId: 'c-x',
                  matchId: id('ghost-m'),
                  reason: 'match_aborted',
                  releasedAt: at(),
                }),
              ],
    ],
  ];
  const total = actions.reduce((sum, [w]) => sum + w, 0);
  while (written.length < events) {
    const r = rnd.next() * total;
    let sum = 0;
    const action =
      actions.find(([w]) => {
        sum += w;
        return r < sum;
      }) ?? actions[0]!;
    for (const a of action[1]()) await append(a);
    later = later.filter((l) => l.length > 0);
  }
  for (const l of later) for (const a of l) await append(a);
}

/** The views the per-event path (scripts, batch by batch) builds from the log into a fresh prefix. */
async function perEventViews(
  store: EventStore,
  batchSize: number,
): Promise<{ views: Record<string, unknown>; expiring: Record<string, boolean> }> {
  const prefix = randomRedisPrefix('rebuild-ref');
  try {
    const run = await runProjection(store, createQueueViewProjection({ redis, prefix, fastRebuild: false }), {
      batchSize,
    });
    await run.caughtUp;
    await run.close();
    return { views: await dumpQueueViews(redis, prefix), expiring: await expiring(prefix) };
  } finally {
    await deleteRedisPrefix(redis, prefix);
  }
}

/** Deletes every key under `prefix` in one command (a rebuild must not start while some are still there). */
async function loseEveryKey(prefix: string): Promise<void> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  if (found.length) await redis.del(...found);
}

/**
 * Which view keys expire (dumpQueueViews leaves TTLs out; their values are relative to when a
 * key was written, so only whether a key has one is compared).
 */
async function expiring(prefix: string): Promise<Record<string, boolean>> {
  const names = Object.keys(await dumpQueueViews(redis, prefix)).map((k) => prefix + k);
  const pipeline = redis.pipeline();
  for (const key of names) pipeline.pttl(key);
  const ttls = (await pipeline.exec()) ?? [];
  return Object.fromEntries(names.map((key, i) => [key.slice(prefix.length), Number(ttls[i]?.[1]) > 0]));
}

const head = async (store: EventStore) => (await store.readAll({ maxCount: 1_000_000 })).at(-1)!.position;

describe('fast rebuild of the queue views', () => {
  it.each([1, 2, 3, 4, 5, 6])(
    'equals the per-event replay key for key (seed %i), and live events go on from it',
    async (seed) => {
      const store = createMemoryEventStore();
      await generateLog(store, seed, 1500);
      const { views: expected, expiring: expectedExpiring } = await perEventViews(store, 500);
      // The per-event path does not depend on where batches end (a claim and its release in one batch).
      expect(diffQueueViews((await perEventViews(store, 7)).views, expected)).toEqual([]);
      expect(Object.keys(expected).length).toBeGreaterThan(100);

      const prefix = randomRedisPrefix('rebuild-fast');
      const projection = createQueueViewProjection({ redis, prefix, idleCheckMs: 50, rebuildPageSize: 333 });
      const recovered: RebuiltEvent[] = [];
      const run = await runProjection(store, projection, { onRecovered: (e) => recovered.push(e) });
      try {
        await run.caughtUp;
        // (Events for entries the log never created made it rebuild while catching up already.)
        expect(diffQueueViews(await dumpQueueViews(redis, prefix), expected)).toEqual([]);
        const rebuilds = projection.stats().rebuilds;
        const before = recovered.length;
        await loseEveryKey(prefix); // the idle check finds the epoch gone
        const deadline = Date.now() + 10_000;
        while (recovered.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const total = (await store.readAll({ maxCount: 1_000_000 })).length;
        expect(recovered[before]).toMatchObject({ kind: 'reset', from: -1, events: total });
        // (A second idle check may have asked again before the new epoch was written: nothing to do then.)
        for (const later of recovered.slice(before + 1)) expect(later).toMatchObject({ events: 0 });
        expect(projection.lastFastRebuild()?.events).toBe(total);
        expect(diffQueueViews(await dumpQueueViews(redis, prefix), expected)).toEqual([]);
        expect(await expiring(prefix)).toEqual(expectedExpiring);

        // The per-event path takes over from the rebuilt views (checkpoint, epoch, entries' pools).
        await generateLog(store, seed + 100, 300);
        await run.waitFor(await head(store));
        const after = await perEventViews(store, 500);
        expect(diffQueueViews(await dumpQueueViews(redis, prefix), after.views)).toEqual([]);
        expect(await expiring(prefix)).toEqual(after.expiring);
        expect(projection.stats().rebuilds).toBeGreaterThan(rebuilds); // (more if the new events name entries the log never created)
      } finally {
        await run.close();
        await deleteRedisPrefix(redis, prefix);
      }
    },
    60_000,
  );
});

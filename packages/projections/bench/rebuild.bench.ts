/**
 * How fast the queue views are rebuilt from the log after Redis lost them.
 *
 *   node --conditions=@mm/source --import tsx packages/projections/bench/rebuild.bench.ts
 *
 * Writes a log of BENCH_PLAYERS (default 10,000) queue entries × BENCH_ROUNDS (default 2) —
 * joins, cancels, timeouts, matches with their games, claims released — into a fresh schema
 * of TEST_DATABASE_URL, then: (1) the first build of the views (the subscription catching up
 * from an empty Redis), (2) every key of the views deleted while the projection runs, one more
 * event appended, and the rebuild the projection starts by itself, timed from the runner's
 * report — once with the fast path (the log folded in memory, queue-view-rebuild.ts) and once with
 * the per-event path (`fastRebuild: false`), each into a prefix of its own; the two views are then
 * compared key for key (exit code 1 if any differ). Batches of PROJECTOR_BATCH_SIZE (default 500).
 * Progress to stderr, JSON last on stdout.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { type MatchmakingEvent, makePool, matchStream, playerStream } from '@mm/contracts';
import {
  type Decider,
  initialPlayerState,
  matchDecider,
  type PlayerCommand,
  type PlayerState,
  playerDecider,
} from '@mm/domain';
import type { EventMetadata, StreamAppend } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import { createTestRedis, createTestSchema, deleteRedisPrefix, randomRedisPrefix } from '@mm/testing';
import { diffQueueViews, dumpQueueViews } from '../src/redis/queue-view-dump.js';
import { createQueueViewProjection } from '../src/redis/queue-view-projection.js';
import { type RebuiltEvent, runProjection } from '../src/runner/projection-runner.js';

const players = Number(process.env.BENCH_PLAYERS ?? 10_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const batchSize = Number(process.env.PROJECTOR_BATCH_SIZE ?? 500);
const progress = (message: string) => process.stderr.write(`[bench:rebuild] ${message}\n`);

const tenant = 'bench';
const pools = [makePool('3+0', 'rated'), makePool('5+0', 'rated'), makePool('10+0', 'casual')];
const metadata: EventMetadata = {
  tenantId: tenant,
  correlationId: 'c',
  causationId: null,
  actor: { type: 'service', id: 'bench' },
};
const t0 = Date.parse('2026-11-01T00:00:00Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

/** Decides a command on an in-memory state and collects the events for one stream. */
function decideAll<S, C>(decider: Decider<S, C, MatchmakingEvent>, state: S, command: C, out: MatchmakingEvent[]): S {
  const result = decider.decide(command, state);
  if (!result.ok) throw new Error(`${(command as { type: string }).type}: ${result.error.code}`);
  out.push(...result.events);
  return result.events.reduce(decider.evolve, state);
}

/** One round: every player joins; per five, one cancels, one times out, two are matched (game started), one is claimed and released. */
function round(r: number, states: PlayerState[]): StreamAppend[] {
  const pending: MatchmakingEvent[][] = states.map(() => []);
  const matchAppends: StreamAppend[] = [];
  const player = (i: number, command: PlayerCommand) => {
    states[i] = decideAll(
      playerDecider as Decider<PlayerState, PlayerCommand, MatchmakingEvent>,
      states[i]!,
      command,
      pending[i]!,
    );
  };
  const user = (i: number) => `u${i}`;
  const entry = (i: number) => `e${r}-${i}`;
  const rating = (i: number) => 1000 + ((i * 7919) % 1200);
  const time = (i: number) => r * 3_600_000 + i;
  for (let i = 0; i < states.length; i++)
    player(i, {
      type: 'JoinQueue',
      userId: user(i),
      queueEntryId: entry(i),
      pool: pools[Math.floor(i / 5) % pools.length]!,
      rating: rating(i),
      ratingSource: 'default',
      ratingRange: null,
      now: at(time(i)),
    });
  for (let i = 0; i + 4 < states.length; i += 5) {
    player(i, { type: 'CancelQueueEntry', userId: user(i), queueEntryId: entry(i), now: at(time(i) + 1000) });
    player(i + 1, {
      type: 'TimeOutQueueEntry',
      userId: user(i + 1),
      queueEntryId: entry(i + 1),
      now: at(time(i + 1) + 700_000),
      maxQueueTimeMs: 600_000,
    });
    const [w, b] = [i + 2, i + 3];
    const matchId = `m${r}-${i}`;
    for (const [me, other] of [
      [w, b],
      [b, w],
    ] as const)
      player(me, {
        type: 'ClaimQueueEntry',
        userId: user(me),
        queueEntryId: entry(me),
        matchId,
        opponent: { userId: user(other), queueEntryId: entry(other), rating: rating(other) },
        now: at(time(me) + 2000),
      });
    const side = (k: number) => ({
      userId: user(k),
      queueEntryId: entry(k),
      rating: rating(k),
      window: { low: rating(k) - 100, high: rating(k) + 100 },
      waitMs: 2000,
    });
    const matchEvents: MatchmakingEvent[] = [];
    let match = decideAll(
      matchDecider as unknown as Decider<ReturnType<typeof matchDecider.initialState>, unknown, MatchmakingEvent>,
      matchDecider.initialState(),
      {
        type: 'CreateMatch',
        match: {
          matchId,
          source: 'queue',
          pool: pools[Math.floor(i / 5) % pools.length]!,
          white: side(w),
          black: side(b),
          ratingGap: Math.abs(rating(w) - rating(b)),
          weight: 1,
          algorithmVersion: 'bench',
          colourReason: 'bench',
          decidedAt: at(time(w) + 2000),
        },
      },
      matchEvents,
    );
    match = decideAll(
      matchDecider as unknown as Decider<typeof match, unknown, MatchmakingEvent>,
      match,
      { type: 'RecordGameCreated', matchId, gameId: `g-${matchId}`, now: at(time(w) + 3000) },
      matchEvents,
    );
    matchAppends.push({ streamName: matchStream(matchId), events: matchEvents.map(toData) });
    for (const [k, colour] of [
      [w, 'white'],
      [b, 'black'],
    ] as const)
      player(k, {
        type: 'RecordGameStarted',
        userId: user(k),
        queueEntryId: entry(k),
        matchId,
        gameId: `g-${matchId}`,
        colour,
        now: at(time(k) + 3000),
      });
    const released = i + 4;
    player(released, {
      type: 'ClaimQueueEntry',
      userId: user(released),
      queueEntryId: entry(released),
      matchId: `m${r}-${i}-aborted`,
      opponent: { userId: user(i), queueEntryId: null, rating: rating(i) },
      now: at(time(released) + 2000),
    });
    player(released, {
      type: 'ReleaseQueueEntry',
      userId: user(released),
      queueEntryId: entry(released),
      matchId: `m${r}-${i}-aborted`,
      reason: 'match_aborted',
      now: at(time(released) + 2500),
    });
    // ends searching before the next round (one searching entry per player)
    player(released, {
      type: 'CancelQueueEntry',
      userId: user(released),
      queueEntryId: entry(released),
      now: at(time(released) + 3000),
    });
  }
  return [
    ...pending.map((events, i) => ({ streamName: playerStream(tenant, user(i)), events: events.map(toData) })),
    ...matchAppends,
  ].filter((a) => a.events.length > 0);
}

const toData = (event: MatchmakingEvent) => ({ id: randomUUID(), type: event.type, data: event.data, metadata });

async function main() {
  const db = await createTestSchema('bench_rebuild');
  const redis = createTestRedis();
  const prefix = randomRedisPrefix('bench-rebuild');
  const store = await createPostgresEventStore({
    connectionString: db.connectionString,
    schema: db.schema,
    poolSize: 4,
  });
  try {
    const states = Array.from({ length: players }, () => initialPlayerState());
    let events = 0;
    const writeStart = performance.now();
    for (let r = 0; r < rounds; r++) {
      const appends = round(r, states);
      for (let i = 0; i < appends.length; i += 200) await store.appendToStreams!(appends.slice(i, i + 200));
      events += appends.reduce((n, a) => n + a.events.length, 0);
      progress(`round ${r + 1}/${rounds} written (${events} events)`);
    }
    progress(`log written: ${events} events in ${Math.round(performance.now() - writeStart)} ms`);

    const timed = async (fast: boolean, label: string) => {
      const own = `${prefix}:${label}`;
      const projection = createQueueViewProjection({ redis, prefix: own, fastRebuild: fast });
      const rebuilt: RebuiltEvent[] = [];
      const buildStart = performance.now();
      const run = await runProjection(store, projection, { batchSize, onRecovered: (e) => rebuilt.push(e) });
      await run.caughtUp;
      const firstBuildMs = Math.round(performance.now() - buildStart);
      progress(`${label}: first build ${events} events in ${firstBuildMs} ms`);

      await deleteRedisPrefix(redis, own); // Redis lost everything
      const cpuBefore = process.cpuUsage();
      await store.appendToStream(playerStream(tenant, `late-${label}`), [
        toData({
          type: 'QueueJoined',
          data: {
            userId: `late-${label}`,
            queueEntryId: `e-late-${label}`,
            pool: pools[0]!,
            rating: 1500,
            ratingSource: 'default',
            ratingRange: null,
            enqueuedAt: at(0),
          },
        } as MatchmakingEvent),
      ]);
      while (rebuilt.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const rebuild = rebuilt[0]!;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
      const rate = Math.round((rebuild.events / Math.max(1, rebuild.ms)) * 1000);
      progress(
        `${label}: rebuild after the loss ${rebuild.events} events in ${rebuild.ms} ms (${rate} events/s; projector CPU ${cpuMs} ms, load average ${os.loadavg()[0]!.toFixed(1)})${fast ? ` ${JSON.stringify(projection.lastFastRebuild())}` : ''}`,
      );
      return { run, own, firstBuildMs, rebuildEvents: rebuild.events, rebuildMs: rebuild.ms, rate, cpuMs };
    };
    // The fast path (the log folded in memory) and the per-event path (the scripts, batch by
    // batch), on the same log, each into a prefix of its own; then both views compared.
    const fast = await timed(true, 'fast');
    const perEvent = await timed(false, 'per-event');
    const head = (await store.readAll({ after: -1, maxCount: 1_000_000 })).at(-1)!.position;
    await Promise.all([fast.run.waitFor(head), perEvent.run.waitFor(head)]);
    const [fastViews, perEventViews] = await Promise.all([
      dumpQueueViews(redis, fast.own),
      dumpQueueViews(redis, perEvent.own),
    ]);
    await Promise.all([fast.run.close(), perEvent.run.close()]);
    const differences = diffQueueViews(fastViews, perEventViews).length;
    const keys = Object.keys(fastViews).length;
    progress(`views compared: ${keys} keys, ${differences} differ`);
    process.stdout.write(
      `${JSON.stringify({
        events,
        batchSize,
        firstBuildMs: perEvent.firstBuildMs,
        fast: { ms: fast.rebuildMs, events: fast.rebuildEvents, eventsPerSecond: fast.rate, cpuMs: fast.cpuMs },
        perEvent: {
          ms: perEvent.rebuildMs,
          events: perEvent.rebuildEvents,
          eventsPerSecond: perEvent.rate,
          cpuMs: perEvent.cpuMs,
        },
        differences,
        loadAverage: os.loadavg()[0],
        keys,
      })}\n`,
    );
    if (differences > 0) process.exitCode = 1;
  } finally {
    await store.close();
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

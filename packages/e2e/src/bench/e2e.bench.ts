import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '@mm/config';
import { createEventStore, type EventStore, type RecordedEvent } from '@mm/event-store';
import { TEST_JWT_AUDIENCE, TEST_JWT_ISSUER, TEST_JWT_SECRET } from '@mm/testing';
import { driveJoins } from '../driver/join-load.js';
import { MatchmakingClient } from '../driver/matchmaking-client.js';
import { seeded, sleep } from '../driver/pacing.js';
import { type Stack, startStack } from '../stack/stack.js';
import { startCpuWindow } from './cpu-usage.js';
import { type Summary, summarize } from './percentiles.js';

/*
 * pnpm bench:e2e — drives the stack over HTTP on loopback with simulated players.
 *
 * Method: the bench subscribes to the event store's global log (catch-up subscription,
 * LISTEN/NOTIFY-driven for PostgreSQL) and notes, with its own monotonic clock, when it sees
 * each of its players' QueueJoined and each MatchCreated / GameCreated. "Second compatible
 * join → MatchCreated" is the time between seeing the later of the pair's two QueueJoined
 * and seeing the MatchCreated: both go through the same subscriber, so delivery delays
 * cancel out and no cross-process clock is involved. The same figure from the store's
 * commit timestamps (recordedAt) is reported as a cross-check. "Visible" polls
 * GET /v1/matchmaking/queue/{id} (read model) every 10 ms, backing off to a tenth of the time
 * waited, for a sample of matches, from
 * the same start point, until it shows MATCHED with the match id.
 */
const HELP = `pnpm bench:e2e [--rate 200] [--duration 30] [--warmup 10] [--cancel 0.2] [--workers 2] [--pools 4]
                [--url http://127.0.0.1:8003] [--in-flight 64] [--sim-error-rate 0] [--keep-logs] [--source]
                [--trace matches.csv]
pnpm bench:e2e --capacity [--help]   the highest join rate held within the SLO (see --capacity --help)

Without --url it starts its own stack (API, projector, workers, live-game-sim as processes on a
fresh schema), compiled (tsc -b first, incremental) as production runs it; --source runs the
TypeScript through tsx instead. With --url it drives a running stack: EVENT_STORE_URL/DATABASE_URL and
EVENT_STORE_SCHEMA locate its log; JWT_SECRET/JWT_ISSUER/JWT_AUDIENCE sign the players' tokens.
--warmup drives the same load for that many seconds first, with other players, and leaves it
out of the figures: processes just started run cold (JIT, pools, caches) and use more CPU for
their first seconds. Its MatchCreated latencies are reported on their own line and in the
JSON ("warmup"); --warmup 0 measures from the first join.
--trace writes one CSV row per match (seconds since the bench started, phase, second join →
MatchCreated, and, for measured matches, from the store's timestamps: second join → first claim, first claim →
MatchCreated, all in ms) to find what the slow tail lines up with.
Progress on stderr; a table, then one JSON line (last line) on stdout.`;

// --capacity: the capacity search (./capacity.ts) with options of its own.
const capacityMode = process.argv.includes('--capacity');
const { values: args } = parseArgs({
  args: capacityMode ? [] : process.argv.slice(2),
  options: {
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '10' },
    cancel: { type: 'string', default: '0.2' },
    workers: { type: 'string', default: '2' },
    pools: { type: 'string', default: '4' },
    url: { type: 'string' },
    'in-flight': { type: 'string', default: '64' },
    'sim-error-rate': { type: 'string', default: '0' },
    'keep-logs': { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
    trace: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const rate = Number(args.rate);
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const cancelRate = Number(args.cancel);
const workerCount = Number(args.workers);
const poolCount = Math.max(1, Math.min(8, Number(args.pools)));
const inFlight = Number(args['in-flight']);
const log = (line: string) => process.stderr.write(`${line}\n`);

const TENANT = 'bench';
const runId = Date.now().toString(36);

async function main(): Promise<void> {
  let stack: Stack | undefined;
  let store: EventStore;
  let apiUrl: string;
  let mint = {};
  if (args.url) {
    const config = loadConfig(process.env);
    apiUrl = args.url.replace(/\/+$/, '');
    store = await createEventStore(config.eventStoreUrl, {
      postgres: { schema: config.EVENT_STORE_SCHEMA, poolSize: 2 },
    });
    mint = {
      key: config.JWT_SECRET ?? TEST_JWT_SECRET,
      issuer: config.JWT_ISSUER ?? TEST_JWT_ISSUER,
      audience: config.JWT_AUDIENCE ?? TEST_JWT_AUDIENCE,
    };
  } else {
    log(`starting the stack (${workerCount} workers)…`);
    stack = await startStack({
      workers: workerCount,
      label: 'bench',
      logLevel: 'warn',
      keepLogs: args['keep-logs'],
      compiled: !args.source,
      env: { WORKER_INTERVAL_SECONDS: '1' },
      simEnv: { SIM_ERROR_RATE: args['sim-error-rate'] },
    });
    apiUrl = stack.apiUrl;
    store = stack.store;
    log(`stack up: API ${apiUrl}, logs ${stack.logDir}`);
  }
  try {
    const result = await run(apiUrl, store, mint, stack);
    printTable(result);
    console.log(JSON.stringify(result));
  } finally {
    if (stack) await stack.stop();
    else await store.close();
  }
}

type Phase = 'warmup' | 'measured';

interface Seen {
  joinedAt: Map<string, { t: number; recordedAt: number; userId: string; phase: Phase }>;
}

async function run(apiUrl: string, store: EventStore, mint: object, stack: Stack | undefined) {
  const client = new MatchmakingClient(apiUrl, mint);
  const random = seeded(42);
  // Measured players are b<run>-…, warm-up players w<run>-…; a match counts for a phase only
  // when both players belong to it (the few pairs across the boundary count for neither).
  const phaseOf = (userId: unknown): Phase | null =>
    typeof userId !== 'string'
      ? null
      : userId.startsWith(`b${runId}-`)
        ? 'measured'
        : userId.startsWith(`w${runId}-`)
          ? 'warmup'
          : null;
  const seen: Seen = { joinedAt: new Map() };
  const warmupMatchMs: number[] = [];
  const matches = new Map<string, { later: { t: number; recordedAt: number; userId: string; entryId: string } }>();
  const matchMs: number[] = [];
  const matchStoreMs: number[] = [];
  // Breakdown from commit timestamps: later join → first claim (projector, signal, job pickup,
  // pass) and first claim → MatchCreated (the commit protocol on the player and match streams).
  const firstClaimAt = new Map<string, number>();
  const joinToClaimMs: number[] = [];
  const claimToMatchMs: number[] = [];
  const gameMs: number[] = [];
  const visibleMs: number[] = [];
  const visibility: Promise<void>[] = [];
  let visibleMisses = 0;
  let matchCount = 0;
  let gameCount = 0;
  const pendingMatches = new Set<string>();

  const traceRows: string[] = ['t_s,phase,match_ms,join_to_claim_store_ms,claim_to_match_store_ms'];
  const traceStart = performance.now();
  const onEvent = (event: RecordedEvent) => {
    const t = performance.now();
    // biome-ignore lint/suspicious/noExplicitAny: raw event data
    const d: any = event.data;
    const phase = phaseOf(event.type === 'MatchCreated' ? d.white?.userId : d.userId);
    if (event.type === 'QueueJoined' && phase)
      seen.joinedAt.set(d.queueEntryId, { t, recordedAt: event.recordedAt.getTime(), userId: d.userId, phase });
    else if (event.type === 'QueueEntryMatched' && phase === 'measured') {
      if (!firstClaimAt.has(d.matchId)) firstClaimAt.set(d.matchId, event.recordedAt.getTime());
    } else if (event.type === 'MatchCreated' && phase) {
      const w = seen.joinedAt.get(d.white.queueEntryId);
      const b = seen.joinedAt.get(d.black.queueEntryId);
      if (!w || !b || w.phase !== b.phase) return;
      const [later, entryId] = w.t >= b.t ? [w, d.white.queueEntryId] : [b, d.black.queueEntryId];
      if (phase === 'warmup') {
        warmupMatchMs.push(t - later.t);
        if (args.trace)
          traceRows.push([((t - traceStart) / 1000).toFixed(3), phase, (t - later.t).toFixed(1), '', ''].join(','));
        return;
      }
      matchCount++;
      pendingMatches.add(d.matchId);
      matches.set(d.matchId, { later: { ...later, entryId } });
      matchMs.push(t - later.t);
      matchStoreMs.push(event.recordedAt.getTime() - Math.max(w.recordedAt, b.recordedAt));
      const claimedAt = firstClaimAt.get(d.matchId);
      if (claimedAt !== undefined) {
        joinToClaimMs.push(claimedAt - Math.max(w.recordedAt, b.recordedAt));
        claimToMatchMs.push(event.recordedAt.getTime() - claimedAt);
        firstClaimAt.delete(d.matchId);
      }
      if (args.trace)
        traceRows.push(
          [
            ((t - traceStart) / 1000).toFixed(3),
            phase,
            (t - later.t).toFixed(1),
            claimedAt === undefined ? '' : claimedAt - Math.max(w.recordedAt, b.recordedAt),
            claimedAt === undefined ? '' : event.recordedAt.getTime() - claimedAt,
          ].join(','),
        );
      // Sample visibility so the polling does not become the load it measures.
      if (matchCount % 4 === 0 && visibility.length < 2000)
        visibility.push(
          (async () => {
            const polling = performance.now();
            const deadline = polling + 10_000;
            while (performance.now() < deadline) {
              const res = await client.entry(TENANT, later.userId, entryId).catch(() => null);
              if (res?.status === 200 && res.body.match_id === d.matchId) {
                visibleMs.push(performance.now() - later.t);
                return;
              }
              // Every 10 ms, then every tenth of the time already waited: the figure keeps a
              // ~10 % resolution, and a lagging read model is not also flooded with polls.
              await sleep(Math.max(10, (performance.now() - polling) / 10));
            }
            visibleMisses++;
          })(),
        );
    } else if (event.type === 'GameCreated') {
      const match = matches.get(d.matchId);
      if (!match) return;
      gameCount++;
      pendingMatches.delete(d.matchId);
      gameMs.push(t - match.later.t);
    } else if (event.type === 'MatchAborted') pendingMatches.delete(d.matchId);
  };
  const subscription = store.subscribeToAll({
    filter: { eventTypes: ['QueueJoined', 'QueueEntryMatched', 'MatchCreated', 'GameCreated', 'MatchAborted'] },
    handler: onEvent,
    onError: (error) => log(`subscription failed: ${String(error)}`),
  });
  await subscription.caughtUp;

  const total = Math.round(rate * duration);
  const joinHttpMs: number[] = [];
  let accepted = 0;
  let rejected = 0;
  const rejectedByStatus: Record<string, number> = {};
  const cancels = { ok: 0, refused: 0, other: 0 };
  const progress = setInterval(
    () =>
      log(
        `  joins ${accepted}/${total} accepted (${rejected} rejected), matches ${matchCount}, games ${gameCount}, cancels ${cancels.ok} ok / ${cancels.refused} refused`,
      ),
    2000,
  );
  const drive = (prefix: string, count: number, record: boolean) =>
    driveJoins({
      client,
      tenantId: TENANT,
      prefix: `${prefix}${runId}-`,
      count,
      ratePerSecond: rate,
      maxInFlight: inFlight,
      pools: poolCount,
      cancelRate,
      random,
      onJoined: (res) => {
        if (!record) return;
        accepted++;
        joinHttpMs.push(res.ms);
      },
      onRejected: (reason) => {
        if (!record) return;
        rejected++;
        rejectedByStatus[reason] = (rejectedByStatus[reason] ?? 0) + 1;
      },
      onCancelled: (status) => {
        if (!record) return;
        if (status === 200) cancels.ok++;
        else if (status === 409) cancels.refused++;
        else cancels.other++;
      },
    });
  const warmupTotal = Math.round(rate * warmup);
  if (warmupTotal > 0) {
    log(`warming up: ${warmupTotal} joins at ${rate}/s for ${warmup} s (not in the figures)…`);
    await (await drive('w', warmupTotal, false)).cancels;
  }
  log(`driving ${total} joins at ${rate}/s for ${duration} s over ${poolCount} pools, ${cancelRate * 100}% cancels…`);
  const pids = (...ps: { pid: number | undefined }[]) => ps.flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  const cpu = startCpuWindow(
    (): Record<string, number[]> =>
      stack
        ? {
            api: pids(stack.api),
            projector: pids(stack.projector),
            worker: pids(...stack.workers),
            'live-game-sim': pids(stack.sim),
          }
        : {},
  );
  const started = performance.now();
  const { cancels: cancelling } = await drive('b', total, true);
  const joinSeconds = (performance.now() - started) / 1000;
  await cancelling;
  // Drain: games of the matches seen so far (retries/backoff) and the visibility probes.
  const drainUntil = performance.now() + 20_000;
  while (pendingMatches.size > 0 && performance.now() < drainUntil) await sleep(100);
  await Promise.all(visibility);
  const cpuReport = cpu.stop();
  clearInterval(progress);
  await subscription.close();
  if (args.trace) {
    writeFileSync(args.trace, `${traceRows.join('\n')}\n`);
    log(`per-match timings: ${args.trace}`);
  }

  const match = summarize(matchMs);
  return {
    bench: 'e2e',
    mode: 'immediate',
    workers: stack ? stack.workers.length : null,
    target_joins_per_s: rate,
    duration_s: duration,
    pools: poolCount,
    joins_attempted: total,
    joins_accepted: accepted,
    joins_rejected: rejected,
    joins_rejected_by_status: rejectedByStatus,
    accepted_joins_per_s: Math.round((accepted / joinSeconds) * 10) / 10,
    join_http_ms: summarize(joinHttpMs),
    cancels,
    matches: matchCount,
    games: gameCount,
    matches_without_game_after_drain: pendingMatches.size,
    second_join_to_match_created_ms: match,
    warmup: { seconds: warmup, joins: warmupTotal, second_join_to_match_created_ms: summarize(warmupMatchMs) },
    second_join_to_match_created_store_ms: summarize(matchStoreMs),
    breakdown_store_ms: {
      second_join_to_first_claim: summarize(joinToClaimMs),
      first_claim_to_match_created: summarize(claimToMatchMs),
    },
    second_join_to_game_created_ms: summarize(gameMs),
    second_join_to_visible_in_get_ms: { ...summarize(visibleMs), sampled_every: 4, misses: visibleMisses },
    // CPU while driving and draining: per process group, the driver (this process, with the
    // rating-api double), and the whole machine (PostgreSQL, Redis, everything) — per match.
    cpu: {
      wall_s: round1(cpuReport.wallSeconds),
      machine_busy_cores: cpuReport.machineBusyCores === null ? null : round2(cpuReport.machineBusyCores),
      ms_per_match: Object.fromEntries(
        [...Object.entries(cpuReport.seconds), ['machine', cpuReport.machineBusySeconds] as const].map(
          ([name, seconds]) => [
            name,
            seconds === null || matchCount === 0 ? null : round1((seconds * 1000) / matchCount),
          ],
        ),
      ),
    },
    goal_match_created: {
      p50_le_50ms: match.p50 !== null && match.p50 <= 50,
      p99_le_250ms: match.p99 !== null && match.p99 <= 250,
    },
  };
}

type Result = Awaited<ReturnType<typeof run>>;

function printTable(r: Result): void {
  const row = (label: string, s: Summary) =>
    `  ${label.padEnd(44)} ${fmt(s.p50).padStart(9)} ${fmt(s.p99).padStart(9)} ${fmt(s.max).padStart(9)} ${String(s.count).padStart(7)}`;
  const lines = [
    '',
    `e2e bench — ${r.mode} mode, ${r.workers ?? '?'} workers, ${r.pools} pools, target ${r.target_joins_per_s} joins/s for ${r.duration_s} s`,
    `  joins accepted ${r.joins_accepted}/${r.joins_attempted} (${r.joins_rejected} rejected: ${JSON.stringify(r.joins_rejected_by_status)}) = ${r.accepted_joins_per_s} joins/s; cancels ${r.cancels.ok} ok, ${r.cancels.refused} refused (already matched)`,
    `  matches ${r.matches}, games ${r.games}, still without game after drain ${r.matches_without_game_after_drain}`,
    '',
    `  ${'latency (ms)'.padEnd(44)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)} ${'n'.padStart(7)}`,
    row('join HTTP round trip', r.join_http_ms),
    row('2nd compatible join → MatchCreated', r.second_join_to_match_created_ms),
    row(`  (during the ${r.warmup.seconds} s warm-up, not counted)`, r.warmup.second_join_to_match_created_ms),
    row('  (same, from store commit timestamps)', r.second_join_to_match_created_store_ms),
    row('    of which: 2nd join → first claim', r.breakdown_store_ms.second_join_to_first_claim),
    row('    of which: first claim → MatchCreated', r.breakdown_store_ms.first_claim_to_match_created),
    row('2nd compatible join → GameCreated', r.second_join_to_game_created_ms),
    row('2nd compatible join → visible in GET /queue/{id}', r.second_join_to_visible_in_get_ms),
    '',
    `  CPU per match (ms, while driving and draining; machine = all processes incl. PostgreSQL and Redis, ${r.cpu.machine_busy_cores ?? '—'} cores busy):`,
    `    ${Object.entries(r.cpu.ms_per_match)
      .map(([name, ms]) => `${name} ${ms === null ? '—' : ms}`)
      .join(' · ')}`,
    '',
    `  goal (MatchCreated p50 ≤ 50 ms, p99 ≤ 250 ms): p50 ${r.goal_match_created.p50_le_50ms ? 'met' : 'NOT met'}, p99 ${r.goal_match_created.p99_le_250ms ? 'met' : 'NOT met'}`,
    '',
  ];
  console.log(lines.join('\n'));
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round2 = (v: number) => Math.round(v * 100) / 100;
const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(1));

(capacityMode ? import('./capacity.js').then((m) => m.runCapacity(process.argv.slice(2))) : main()).catch(
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

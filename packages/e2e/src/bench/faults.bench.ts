import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { reconcileWithLiveGameApi } from '@mm/audit';
import { pairingSettings } from '@mm/config';
import type { RecordedEvent } from '@mm/event-store';
import { testDatabaseUrl } from '@mm/testing';
import pg from 'pg';
import { MatchmakingClient } from '../driver/matchmaking-client.js';
import { runPaced, seeded, sleep } from '../driver/pacing.js';
import { waitUntilSettled } from '../driver/settle.js';
import {
  firstMatchAfter,
  type Outcomes,
  readModelsVsReplay,
  searchingEntries,
  truthfulness,
  viewsVsReplay,
  waitUntilNoneSearching,
} from '../faults/checks.js';
import { PostgresServer } from '../faults/pg-server.js';
import { Supervisor } from '../faults/supervisor.js';
import { RedisServer } from '../stack/redis-server.js';
import type { ServiceProcess } from '../stack/service-process.js';
import { type Stack, startStack } from '../stack/stack.js';
import { auditSettled } from '../verify.js';
import { latencyTimeline, type MatchSample, type Summary, summarize } from './percentiles.js';

/*
 * pnpm bench:faults — the operator's fault runs (infrastructure faults and edge faults) as a
 * reproducible benchmark. Each scenario starts its own stack (API, projector, 2 workers,
 * live-game-sim as separate processes, under a supervisor that restarts whatever exits),
 * drives joins at --rate for --seconds over 4 pools with 20 % cancels, injects its faults,
 * lets the system settle, and judges the run from the event log:
 *   redis    — a Redis of the run's own, without persistence, killed twice for 3 s (every key lost);
 *   postgres — a PostgreSQL of the run's own (initdb in a temp dir), `pg_ctl -m fast restart` twice;
 *   kills    — 15 SIGKILLs over 90 s (workers ×12, projector ×2, API ×1; scaled to --seconds) while
 *              live-game-sim fails 30 % of game creations (18 % 503, 6 % hangs, 4 % lost replies,
 *              2 % refusals).
 */
const HELP = `pnpm bench:faults [--scenario redis|postgres|kills|all] [--rate 100] [--seconds 90] [--seed 1]
                   [--warmup 5] [--keep-logs] [--source] [--trace matches.csv]

Scenarios (default all, one after the other, each on a stack of its own):
  redis     a Redis of the run's own (no persistence) is SIGKILLed at 1/3 and 2/3 of the run and
            restarted empty after 3 s; the shared Redis is not touched.
  postgres  a PostgreSQL of the run's own (initdb into a temp dir, trust auth, free port; run as the
            postgres user when root) is restarted with pg_ctl -m fast restart at 1/3 and 2/3 of the
            run. Without server binaries it falls back to terminating every connection of the stack
            (pg_terminate_backend by application_name) and says so.
  kills     SIGKILLs spread over the run: workers x12, projector x2, API x1 at 90 s (scaled down to
            --seconds, at least one of each); live-game-sim fails 30 % of game creations
            (18 % 503, 6 % hangs past the timeout, 4 % lost replies, 2 % refusals).
Load: --rate joins/s for --seconds, fresh players rated 1450-1549 over 4 pools, 20 % cancel
within 0.8 s; --warmup seconds of the same load first (in the checks, not in the latencies).
A supervisor restarts any app process that is not running. After the run the log must settle;
then answers are checked against the log, the audit runs, the Redis views and the Postgres read
models are compared with a replay of the log, and live-game-sim's games are reconciled with it.
The apps run compiled (tsc -b first, incremental; as the production images run them); --source
runs their TypeScript through tsx instead (slower starts: restarts after a kill take longer).
The table shows the match latency in 5 s buckets with the faults that started in each (also in
the JSON as match_latency_timeline); --trace writes every measured match (seconds since the
measured phase began, latency) and every fault to a CSV file (one per scenario with 'all').
Progress on stderr; a table per scenario, then one JSON line (last line) on stdout. Exit code 0
whether or not the goals are met (the JSON says), 2 on bad arguments.`;

type Scenario = 'redis' | 'postgres' | 'kills';
const SCENARIOS: readonly Scenario[] = ['redis', 'postgres', 'kills'];

interface Options {
  scenarios: Scenario[];
  rate: number;
  seconds: number;
  seed: number;
  warmup: number;
  keepLogs: boolean;
  /** Write every measured match (and every fault) to this CSV file: where the slow tail lies in time. */
  trace: string | null;
  /** Run the apps from their TypeScript sources through tsx instead of compiled JavaScript. */
  source: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string', default: 'all' },
        rate: { type: 'string', default: '100' },
        seconds: { type: 'string', default: '90' },
        seed: { type: 'string', default: '1' },
        warmup: { type: 'string', default: '5' },
        'keep-logs': { type: 'boolean', default: false },
        trace: { type: 'string' },
        source: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const number = (name: string, raw: string, ok: (n: number) => boolean, what: string) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !ok(n))
      throw new UsageError(`--${name} must be ${what}, got '${raw}'`);
    return n;
  };
  const scenario = v.scenario;
  if (scenario !== 'all' && !SCENARIOS.includes(scenario as Scenario))
    throw new UsageError(`--scenario must be redis, postgres, kills or all, got '${scenario}'`);
  return {
    scenarios: scenario === 'all' ? [...SCENARIOS] : [scenario as Scenario],
    rate: number('rate', v.rate, (n) => n > 0 && n <= 1000, 'a number of joins/s in (0, 1000]'),
    seconds: number('seconds', v.seconds, (n) => n >= 5 && n <= 3600, 'a number of seconds in [5, 3600]'),
    seed: number('seed', v.seed, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer'),
    warmup: number('warmup', v.warmup, (n) => n >= 0 && n <= 600, 'a number of seconds in [0, 600]'),
    keepLogs: v['keep-logs'],
    trace: v.trace ?? null,
    source: v.source,
  };
}

const POOLS = [
  ['3+0', 'rated'],
  ['5+0', 'rated'],
  ['3+0', 'casual'],
  ['10+0', 'rated'],
] as const;
const POOL_KEYS = POOLS.map(([tc, mode]) => `${tc}:${mode}`);
const CANCEL_RATE = 0.2;
const MAX_QUEUE_SECONDS = 10;
const REDIS_OUTAGE_MS = 3000;
/** Live-game-sim's faults in the kills scenario (30 % of creations). */
const SIM_FAULTS = {
  SIM_ERROR_RATE: '0.18',
  SIM_TIMEOUT_RATE: '0.06',
  SIM_DUPLICATE_RATE: '0.04',
  SIM_REJECT_RATE: '0.02',
};
const GOAL = { pairingResumeMs: 2000, apiReadyAfterPgMs: 1000, matchLatencyP99Ms: 2000 } as const;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One fault as it happened: start and end in epoch ms (for a kill, both are the kill). */
interface Fault {
  kind: string;
  target: string;
  start: number;
  end: number;
  /** PostgreSQL only: ms from the server being back to the API's `/ready` answering 200. */
  apiReadyAfterMs?: number | null;
}

interface Driven {
  outcomes: Outcomes;
  unanswered: number;
  /** Entry ids of the measured phase (latencies are for matches of two of them). */
  measuredEntries: Set<string>;
  /** How long the measured phase took (longer than --seconds when the API could not keep up). */
  driveSeconds: number;
  /** Epoch ms when the measured phase began. */
  startedAt: number;
}

/**
 * Drives `seconds` of joins at `rate` with fresh players; `onProgress` gets the fraction of the
 * measured phase's joins started so far (0 when it begins).
 */
async function drive(
  stack: Stack,
  options: Options,
  tag: string,
  onProgress: (fraction: number) => void,
): Promise<Driven> {
  const client = new MatchmakingClient(stack.apiUrl);
  const random = seeded(options.seed);
  const outcomes: Outcomes = { joins: new Map(), cancels: new Map() };
  const measuredEntries = new Set<string>();
  const cancels: Promise<void>[] = [];
  let unanswered = 0;
  const phase = async (prefix: string, seconds: number, measured: boolean) => {
    const total = Math.round(options.rate * seconds);
    const tick = measured ? (started: number) => onProgress(started / total) : undefined;
    await runPaced(
      total,
      options.rate,
      64,
      async (i) => {
        const [timeControl, mode] = POOLS[i % POOLS.length]!;
        const user = `${prefix}${tag}-${i}_r${1450 + Math.floor(random() * 100)}`;
        const cancel = random() < CANCEL_RATE;
        const delay = Math.floor(random() * 800);
        const res = await client.join(tag, user, timeControl, mode).catch(() => null);
        if (!res) {
          unanswered++;
          return;
        }
        const entryId = res.status === 201 ? String(res.body.queue_entry_id) : null;
        outcomes.joins.set(user, { status: res.status, entryId, pool: `${timeControl}:${mode}` });
        if (entryId && measured) measuredEntries.add(entryId);
        if (cancel && entryId)
          cancels.push(
            sleep(delay).then(async () => {
              const answer = await client.cancel(tag, user, entryId).catch(() => null);
              if (answer) outcomes.cancels.set(entryId, answer.status);
              else unanswered++;
            }),
          );
      },
      tick,
    );
  };
  if (options.warmup > 0) {
    log(`  warm-up: ${options.warmup} s at ${options.rate} joins/s`);
    await phase('w', options.warmup, false);
  }
  log(
    `  driving ${options.seconds} s at ${options.rate} joins/s over ${POOLS.length} pools, ${CANCEL_RATE * 100} % cancels`,
  );
  const startedAt = Date.now();
  onProgress(0);
  const progress = setInterval(
    () => log(`    ${outcomes.joins.size} joins answered, ${outcomes.cancels.size} cancels, ${unanswered} unanswered`),
    5000,
  );
  try {
    await phase('b', options.seconds, true);
    await Promise.all(cancels);
  } finally {
    clearInterval(progress);
  }
  return { outcomes, unanswered, measuredEntries, driveSeconds: (Date.now() - startedAt) / 1000, startedAt };
}

/**
 * Polls the API's `/ready` every 20 ms until it answers 200 (or 30 s pass); ms from `since`.
 * Each probe may take 3 s (the route gives each dependency 2 s), so a slow but good answer counts
 * when it arrives. When that took longer than the goal, the refusals seen are logged.
 */
async function apiReadyAfter(stack: Stack, since: number): Promise<number | null> {
  const refusals = new Map<string, number>();
  const refused = (reason: string) => refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
  let readyAfter: number | null = null;
  while (Date.now() - since < 30_000) {
    const ok = await fetch(`${stack.apiUrl}/ready`, { signal: AbortSignal.timeout(3000) }).then(
      async (r) => {
        if (!r.ok) refused(`${r.status} ${(await r.text()).slice(0, 300)}`);
        return r.ok;
      },
      (error: Error) => {
        refused(error.message);
        return false;
      },
    );
    if (ok) {
      readyAfter = Date.now() - since;
      break;
    }
    await sleep(20);
  }
  if (readyAfter === null || readyAfter > GOAL.apiReadyAfterPgMs)
    for (const [reason, n] of refusals) log(`    /ready refused ${n}×: ${reason}`);
  return readyAfter;
}

/** Whether a projector process leads now: its last leadership line says so (not "standby"). */
const leads = (p: ServiceProcess): boolean => {
  const lines = p.log().match(/"msg":"projector (started|leading again|standby|lost its lock)/g) ?? [];
  const last = lines.at(-1) ?? '';
  return last.includes('started') || last.includes('leading again');
};

/** The kill schedule: 12 workers, 2 projector, 1 API per 90 s (at least one each), spread evenly, API mid-run. */
function killSchedule(seconds: number): ('worker' | 'projector' | 'api')[] {
  const scale = seconds / 90;
  const workers = Math.max(1, Math.round(12 * scale));
  const projectors = Math.max(1, Math.round(2 * scale));
  const apis = Math.max(1, Math.round(scale));
  const total = workers + projectors + apis;
  const slots: ('worker' | 'projector' | 'api' | null)[] = Array.from({ length: total }, () => null);
  const place = (kind: 'projector' | 'api', count: number, offset: number) => {
    for (let k = 0; k < count; k++) {
      let at = Math.min(total - 1, Math.floor(((k + offset) * total) / (count + 0.5)));
      while (slots[at] !== null) at = (at + 1) % total;
      slots[at] = kind;
    }
  };
  place('api', apis, 0.5);
  place('projector', projectors, 0.25);
  return slots.map((s) => s ?? 'worker');
}

async function runScenario(scenario: Scenario, options: Options) {
  const tag = `${scenario}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  let redis: RedisServer | undefined;
  let postgres: PostgresServer | undefined;
  let pgFault: 'pg_ctl_restart' | 'terminate_connections' | null = null;
  let fallbackReason: string | null = null;
  const applicationName = `mm-bench-pg-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    MAX_QUEUE_TIME_SECONDS: String(MAX_QUEUE_SECONDS),
    WORKER_INTERVAL_SECONDS: '1',
  };
  const previousTestDatabaseUrl = process.env.TEST_DATABASE_URL;
  if (scenario === 'redis') {
    redis = await RedisServer.start();
    env.REDIS_URL = redis.url;
    log(`  own Redis on ${redis.url}`);
  } else if (scenario === 'postgres') {
    try {
      postgres = await PostgresServer.start();
      pgFault = 'pg_ctl_restart';
      // startStack makes its schema in TEST_DATABASE_URL's database: point it at the run's own server.
      process.env.TEST_DATABASE_URL = postgres.url();
      log(`  own PostgreSQL (${postgres.bin}) on port ${postgres.port}, data in ${postgres.dir}`);
    } catch (error) {
      pgFault = 'terminate_connections';
      fallbackReason = (error as Error).message.split('\n')[0] ?? 'unknown';
      const url = new URL(testDatabaseUrl());
      url.searchParams.set('application_name', applicationName);
      env.DATABASE_URL = url.toString();
      log(`  no PostgreSQL of our own (${fallbackReason}): terminating the stack's connections instead`);
    }
  }
  let stack: Stack | undefined;
  let supervisor: Supervisor | undefined;
  try {
    stack = await startStack({
      workers: 2,
      // A hot standby projector, as production runs it: the one killed is the leader.
      projectors: 2,
      label: `bench_faults_${scenario}`,
      logLevel: 'warn',
      keepLogs: options.keepLogs,
      compiled: !options.source,
      env,
      simEnv: scenario === 'kills' ? { ...SIM_FAULTS, SIM_SEED: String(options.seed) } : {},
    });
    const s = stack;
    log(`  stack up: API ${s.apiUrl}, logs ${s.logDir}`);
    supervisor = new Supervisor(() => [s.api, ...s.projectors, ...s.workers], {
      onReady: (exit) =>
        log(`  supervisor: ${exit.service} restarted, ready ${exit.readyAt! - exit.at} ms after its exit`),
    });
    supervisor.start();

    const faults: Fault[] = [];
    const faultTasks: Promise<void>[] = [];
    const planned = new Map<string, number>();
    const killsScheduled = scenario === 'kills' ? killSchedule(options.seconds).length : 0;
    // Faults are placed by the share of the measured joins started (= by time while the driver
    // keeps pace), so they stay spread over the load when the run slips.
    const plan: { fraction: number; task: () => Promise<void>; fired: boolean }[] = [];
    const at = (fraction: number, task: () => Promise<void>) => plan.push({ fraction, task, fired: false });
    const progress = (fraction: number) => {
      for (const step of plan)
        if (!step.fired && step.fraction <= fraction) {
          step.fired = true;
          faultTasks.push(
            step.task().catch((error: unknown) => {
              log(`  fault failed: ${String(error)}`);
            }),
          );
        }
    };
    if (scenario === 'redis' && redis) {
      const server = redis;
      for (const fraction of [1 / 3, 2 / 3])
        at(fraction, async () => {
          const start = Date.now();
          await server.down();
          log(`  Redis killed (every key lost)`);
          await sleep(REDIS_OUTAGE_MS);
          await server.up();
          const end = Date.now();
          faults.push({ kind: 'redis_restart_empty', target: 'redis', start, end });
          log(`  Redis back empty after ${end - start} ms`);
        });
    } else if (scenario === 'postgres') {
      for (const fraction of [1 / 3, 2 / 3])
        at(fraction, async () => {
          const start = Date.now();
          if (postgres) await postgres.restart();
          else await terminateConnections(applicationName);
          const end = Date.now();
          const apiReadyAfterMs = await apiReadyAfter(s, end);
          faults.push({ kind: pgFault!, target: 'postgres', start, end, apiReadyAfterMs });
          log(`  PostgreSQL ${pgFault} took ${end - start} ms; API ready ${apiReadyAfterMs ?? 'never'} ms later`);
        });
    } else if (scenario === 'kills') {
      const kills = killSchedule(options.seconds);
      kills.forEach((kind, k) => {
        at((k + 1) / (kills.length + 1), async () => {
          // Only a process that is up and ready is killed (one the supervisor is still starting is skipped);
          // the workers alternate.
          const ready = (p: ServiceProcess) => p.running && !supervisor?.isRestarting(p.name);
          const candidates = (
            kind === 'api' ? [s.api] : kind === 'projector' ? s.projectors.filter(leads) : s.workers
          ).filter(ready);
          const victim = candidates[kind === 'worker' ? k % Math.max(1, candidates.length) : 0];
          if (!victim) {
            log(`  kill ${k + 1}/${kills.length}: no ${kind} up and ready (the supervisor is starting it), skipped`);
            return;
          }
          const time = Date.now();
          planned.set(victim.name, (planned.get(victim.name) ?? 0) + 1);
          await victim.kill();
          faults.push({ kind: 'sigkill', target: victim.name, start: time, end: time });
          log(`  kill ${k + 1}/${kills.length}: SIGKILL ${victim.name}`);
        });
      });
    }

    const driven = await drive(s, options, tag, progress);
    progress(1);
    // Faults near the end of the run may still be under way.
    await Promise.all(faultTasks);
    log(`  load done; settling…`);

    const policy = pairingSettings(s.config);
    const settle = await waitUntilSettled(() => s.readAll(), policy, { timeoutMs: 120_000, pollMs: 1000 });
    const events = await waitUntilNoneSearching(
      () => s.readAll(),
      settle.events,
      Date.now() + (MAX_QUEUE_SECONDS + 15) * 1000,
    );
    await supervisor.stop();
    log(`  settled: ${settle.settled} after ${(settle.waitedMs / 1000).toFixed(1)} s; checking…`);

    const audit = auditSettled(events, policy);
    const truth = truthfulness(events, driven.outcomes);
    const views = await viewsVsReplay(s.config.REDIS_URL, s.redisPrefix, () => s.readAll());
    const readModels = await readModelsVsReplay(s.config.DATABASE_URL, s.schema, () => s.readAll());
    const games = await reconcileWithLiveGameApi(events, s.simUrl, { settled: true });
    const stranded = searchingEntries(events).length;

    const exitsByService: Record<string, number> = {};
    for (const e of supervisor.exits) exitsByService[e.service] = (exitsByService[e.service] ?? 0) + 1;
    let unplannedExits = s.sim.running ? 0 : 1;
    for (const [service, count] of Object.entries(exitsByService))
      unplannedExits += Math.max(0, count - (planned.get(service) ?? 0));
    const restartMs = supervisor.exits.flatMap((e) => (e.readyAt === null ? [] : [e.readyAt - e.at]));

    const resumes = faults
      .sort((a, b) => a.start - b.start)
      .map((f) => {
        const perPool = POOL_KEYS.map((pool) => firstMatchAfter(events, f.end, pool));
        return {
          fault: f.kind,
          target: f.target,
          outage_ms: f.end - f.start,
          every_pool_resumed_ms: perPool.some((p) => p === null) ? null : Math.max(...(perPool as number[])),
          ...(f.apiReadyAfterMs === undefined ? {} : { api_ready_after_ms: f.apiReadyAfterMs }),
        };
      });
    const latency = matchLatencies(events, driven.measuredEntries);
    if (options.trace) {
      // One row per measured match, then one per fault: seconds since the measured phase began.
      const t = (at: number) => ((at - driven.startedAt) / 1000).toFixed(3);
      const rows = [
        'scenario,t_s,what,match_latency_ms',
        ...latency.samples.map((m) => `${scenario},${t(m.joinedAt)},match,${m.ms}`),
        ...faults.map((f) => `${scenario},${t(f.start)},${f.kind} ${f.target},`),
      ];
      writeFileSync(
        options.scenarios.length > 1 ? `${options.trace}.${scenario}` : options.trace,
        `${rows.join('\n')}\n`,
      );
    }
    const resumeMax = resumes.some((r) => r.every_pool_resumed_ms === null)
      ? null
      : Math.max(0, ...resumes.map((r) => r.every_pool_resumed_ms as number));
    const readyTimes = resumes.flatMap((r) => (r.api_ready_after_ms === undefined ? [] : [r.api_ready_after_ms]));
    const apiReadyMax =
      readyTimes.length === 0
        ? null
        : readyTimes.some((r) => r === null)
          ? null
          : Math.max(...(readyTimes as number[]));

    const figures = {
      fault: scenario === 'postgres' ? pgFault : scenario === 'redis' ? 'redis_restart_empty' : 'sigkill',
      ...(fallbackReason ? { fallback_reason: fallbackReason } : {}),
      faults: resumes.length,
      joins_offered: Math.round(options.rate * options.seconds) + Math.round(options.rate * options.warmup),
      joins_accepted: truth.count.joined201,
      drive_s: Math.round(driven.driveSeconds * 10) / 10,
      accepted_joins_per_s: Math.round((driven.measuredEntries.size / driven.driveSeconds) * 10) / 10,
      joins_5xx: truth.count.join5xx,
      joins_other: truth.count.other,
      cancels_200: truth.count.cancelled200,
      cancels_5xx: truth.count.cancel5xx,
      cancels_409: [...driven.outcomes.cancels.values()].filter((status) => status === 409).length,
      requests_unanswered: driven.unanswered,
      refused_but_applied: truth.refusedButApplied,
      acknowledged_but_not_applied: truth.acknowledgedButNotApplied,
      settled: settle.settled,
      stuck_players: stranded + audit.stats.claimedAtEnd,
      players_in_live_match: audit.stats.playersInLiveMatchAtEnd,
      unfinished_matches: audit.stats.openMatches,
      matches: audit.stats.matches,
      matches_aborted: audit.stats.matchesAborted,
      games_created: audit.stats.gamesCreated,
      views_differing_keys: views.differing.length,
      read_models_differing_rows: readModels.differing,
      read_models_lagging: readModels.lagging,
      process_exits: unplannedExits,
      kills_scheduled: killsScheduled,
      kills: [...planned.values()].reduce((a, b) => a + b, 0),
      restarts: supervisor.exits.length,
      restart_ms: summarize(restartMs),
      pairing_resume: resumes,
      pairing_resume_ms_max: resumeMax,
      api_ready_after_pg_ms_max: scenario === 'postgres' ? apiReadyMax : null,
      match_latency_ms: { count: latency.count, p50: latency.p50, p99: latency.p99, max: latency.max },
      match_latency_p99_ms: latency.p99,
      match_latency_timeline: latencyTimeline(latency.samples, faults, driven.startedAt),
      orphan_games: games.stats.orphans,
      game_findings: games.findings.length,
      audit_violations: audit.violations.length,
    };
    const goals: Record<string, boolean> =
      scenario === 'kills'
        ? {
            orphan_games: figures.orphan_games === 0,
            audit_violations: figures.audit_violations === 0 && settle.settled,
            views_differing_keys: figures.views_differing_keys === 0,
            read_models_differing_rows: figures.read_models_differing_rows === 0 && !readModels.lagging,
            match_latency_p99_ms: latency.p99 !== null && latency.p99 <= GOAL.matchLatencyP99Ms,
          }
        : {
            stuck_players: figures.stuck_players === 0 && settle.settled,
            unfinished_matches: figures.unfinished_matches === 0,
            views_differing_keys: figures.views_differing_keys === 0,
            read_models_differing_rows: figures.read_models_differing_rows === 0 && !readModels.lagging,
            refused_but_applied: figures.refused_but_applied === 0 && figures.acknowledged_but_not_applied === 0,
            process_exits: figures.process_exits === 0,
            pairing_resume_ms_max: resumeMax !== null && resumeMax <= GOAL.pairingResumeMs,
            audit_violations: figures.audit_violations === 0,
            ...(scenario === 'postgres'
              ? { api_ready_after_pg_ms_max: apiReadyMax !== null && apiReadyMax <= GOAL.apiReadyAfterPgMs }
              : {}),
          };
    const ok = Object.values(goals).every(Boolean);
    if (!ok) s.fail();
    if (audit.violations.length) log(audit.report);
    for (const lie of truth.lies.slice(0, 10)) log(`  LIE: ${lie}`);
    for (const d of views.differing.slice(0, 10)) log(`  view differs: ${d}`);
    return { ...figures, goals, ok };
  } finally {
    await supervisor?.stop();
    await stack?.stop();
    await redis?.stop();
    await postgres?.stop();
    if (previousTestDatabaseUrl === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = previousTestDatabaseUrl;
  }
}

/** Fallback PostgreSQL fault: every connection of the stack (by the application_name of its DATABASE_URL) terminated. */
async function terminateConnections(applicationName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
  } finally {
    await admin.end();
  }
}

/**
 * Second compatible join → MatchCreated for matches of two measured players, from the store's
 * commit timestamps (one clock: the database's): MatchCreated's minus the later QueueJoined's.
 */
function matchLatencies(events: RecordedEvent[], measured: Set<string>): Summary & { samples: MatchSample[] } {
  const joinedAt = new Map<string, number>();
  const samples: MatchSample[] = [];
  for (const e of events) {
    // biome-ignore lint/suspicious/noExplicitAny: raw event data
    const d: any = e.data;
    if (e.type === 'QueueJoined') joinedAt.set(d.queueEntryId, e.recordedAt.getTime());
    else if (e.type === 'MatchCreated' && d.source === 'queue') {
      const w = d.white?.queueEntryId;
      const b = d.black?.queueEntryId;
      if (!measured.has(w) || !measured.has(b)) continue;
      const later = Math.max(joinedAt.get(w) ?? Number.NaN, joinedAt.get(b) ?? Number.NaN);
      if (Number.isFinite(later)) samples.push({ joinedAt: later, ms: e.recordedAt.getTime() - later });
    }
  }
  return { ...summarize(samples.map((s) => s.ms)), samples };
}

type ScenarioResult = Awaited<ReturnType<typeof runScenario>>;

function printTable(scenario: Scenario, r: ScenarioResult, options: Options): void {
  const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${Math.round(v)} ms`);
  const mark = (goal: string) => (goal in r.goals ? (r.goals[goal] ? '  ok' : '  MISSED') : '');
  const row = (label: string, value: string | number, goal?: string) =>
    `  ${label.padEnd(46)} ${String(value).padStart(14)}${goal ? mark(goal) : ''}`;
  const lines = [
    '',
    `faults bench — ${scenario}: ${r.fault}${r.fallback_reason ? ` (fallback: ${r.fallback_reason})` : ''}, ${options.rate} joins/s for ${options.seconds} s (+${options.warmup} s warm-up), seed ${options.seed}`,
    row('joins offered / accepted (201)', `${r.joins_offered} / ${r.joins_accepted}`),
    row(
      `accepted joins/s (measured ${options.seconds} s took ${r.drive_s} s)`,
      `${r.accepted_joins_per_s}${r.accepted_joins_per_s < options.rate * 0.9 ? ' (below target)' : ''}`,
    ),
    row('joins answered 5xx / other 4xx / unanswered', `${r.joins_5xx} / ${r.joins_other} / ${r.requests_unanswered}`),
    row('cancels 200 / 409 (already matched) / 5xx', `${r.cancels_200} / ${r.cancels_409} / ${r.cancels_5xx}`),
    row('lies: refused (5xx) but applied', r.refused_but_applied, 'refused_but_applied'),
    row('lies: 201/200 but not applied', r.acknowledged_but_not_applied, 'refused_but_applied'),
    row('settled', r.settled ? 'yes' : 'NO'),
    row('stuck players (searching past timeout, claimed)', r.stuck_players, 'stuck_players'),
    row('unfinished matches', r.unfinished_matches, 'unfinished_matches'),
    row('matches / aborted / games', `${r.matches} / ${r.matches_aborted} / ${r.games_created}`),
    row('queue views vs replay: differing keys', r.views_differing_keys, 'views_differing_keys'),
    row(
      `read models vs replay: differing rows${r.read_models_lagging ? ' (LAGGING)' : ''}`,
      r.read_models_differing_rows,
      'read_models_differing_rows',
    ),
    row('process exits (not planned)', r.process_exits, 'process_exits'),
    row('kills sent (of scheduled) / restarts by the supervisor', `${r.kills} (${r.kills_scheduled}) / ${r.restarts}`),
    row('restart → ready p50 / max', `${ms(r.restart_ms.p50)} / ${ms(r.restart_ms.max)}`),
  ];
  for (const [i, f] of r.pairing_resume.entries())
    lines.push(
      row(
        `fault ${i + 1} (${f.target}, outage ${f.outage_ms} ms): every pool paired`,
        ms(f.every_pool_resumed_ms),
        scenario === 'kills' ? undefined : 'pairing_resume_ms_max',
      ) + ('api_ready_after_ms' in f ? `; API ready after ${ms(f.api_ready_after_ms)}` : ''),
    );
  lines.push(row('pairing resume, max over faults', ms(r.pairing_resume_ms_max), 'pairing_resume_ms_max'));
  if (scenario === 'postgres')
    lines.push(
      row('API ready after PostgreSQL returns, max', ms(r.api_ready_after_pg_ms_max), 'api_ready_after_pg_ms_max'),
    );
  lines.push(
    row(
      '2nd join → MatchCreated p50 / p99 / max',
      `${ms(r.match_latency_ms.p50)} / ${ms(r.match_latency_ms.p99)} / ${ms(r.match_latency_ms.max)}`,
      'match_latency_p99_ms',
    ),
    row(
      'orphan games (other game findings)',
      `${r.orphan_games} (${r.game_findings - r.orphan_games})`,
      'orphan_games',
    ),
    row('audit violations', r.audit_violations, 'audit_violations'),
    '  2nd join → MatchCreated by 5 s of second joins (faults started in the bucket):',
    ...r.match_latency_timeline.map(
      (b) =>
        `    ${`${b.from_s}s`.padStart(6)}  n ${String(b.matches).padStart(4)}  p50 ${ms(b.p50).padStart(8)}  p99 ${ms(b.p99).padStart(8)}  max ${ms(b.max).padStart(8)}${b.faults.length ? `  ← ${b.faults.join(', ')}` : ''}`,
    ),
    `  ${
      r.ok
        ? 'every goal met'
        : `goals missed: ${Object.entries(r.goals)
            .filter(([, met]) => !met)
            .map(([goal]) => goal)
            .join(', ')}`
    }`,
    '',
  );
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench:faults: ${error.message} (see --help)\n`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  const results: Partial<Record<Scenario, ScenarioResult>> = {};
  for (const scenario of options.scenarios) {
    log(`scenario ${scenario}:`);
    results[scenario] = await runScenario(scenario, options);
    printTable(scenario, results[scenario]!, options);
  }
  const ok = Object.values(results).every((r) => r.ok);
  console.log(
    JSON.stringify({
      bench: 'faults',
      rate: options.rate,
      seconds: options.seconds,
      warmup_s: options.warmup,
      seed: options.seed,
      scenarios: results,
      ok,
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

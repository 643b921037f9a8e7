import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createEventStore, type RecordedEvent } from '@mm/event-store';
import { Redis } from 'ioredis';
import pg from 'pg';
import { driveJoins } from '../driver/join-load.js';
import { MatchmakingClient } from '../driver/matchmaking-client.js';
import { seeded, sleep } from '../driver/pacing.js';
import { RedisServer } from '../stack/redis-server.js';
import { startStack } from '../stack/stack.js';
import { startCpuSampler } from './cpu-usage.js';
import { type Summary, summarize } from './percentiles.js';

/*
 * pnpm bench:e2e --capacity — the highest join rate the stack holds within its SLO.
 *
 * The stack runs on a PostgreSQL database and a Redis server of its own, so every transaction
 * and command counted is the stack's (plus the bench's own log reader on PostgreSQL, named
 * `mm-bench-reader`), and every process's CPU can be attributed: the stack's processes, the
 * PostgreSQL backends of its connections (found by database in pg_stat_activity, sampled every
 * 500 ms) and the Redis server. After a warm-up, the offered rate steps up; a step holds when
 * for its 20 s the accepted rate is ≥ 95 % of the offered one, nothing is rejected, join HTTP
 * p99 ≤ 100 ms and second compatible join → MatchCreated p99 ≤ 250 ms. A step that breaks is
 * run once more (the machine may have been busy for a moment); the search ends at the first
 * rate that breaks twice, and the capacity is the highest rate that held.
 */
const HELP = `pnpm bench:e2e --capacity [--start-rate 50] [--step 50] [--max-rate 1000] [--step-duration 20]
                [--warmup 10] [--cancel 0.2] [--workers 2] [--pools 4] [--in-flight 256]
                [--join-p99 100] [--match-p99 250] [--keep-logs] [--source]

Starts its own stack (on a database and a Redis server of its own), warms it up at the start
rate, then steps the offered rate up until the SLO (join HTTP p99, second compatible join →
MatchCreated p99, accepted ≥ 95 % of offered, no rejection) breaks twice at one rate.
Per step: latencies, CPU ms per match per process (PostgreSQL backends and Redis included),
PostgreSQL transactions and Redis commands per match. The apps run compiled (tsc -b first);
--source runs their TypeScript through tsx. A table, then one JSON line (last line).`;

const TENANT = 'bench';
const READER = 'mm-bench-reader';

export async function runCapacity(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv.filter((a) => a !== '--capacity'),
    options: {
      'start-rate': { type: 'string', default: '50' },
      step: { type: 'string', default: '50' },
      'max-rate': { type: 'string', default: '1000' },
      'step-duration': { type: 'string', default: '20' },
      warmup: { type: 'string', default: '10' },
      cancel: { type: 'string', default: '0.2' },
      workers: { type: 'string', default: '2' },
      pools: { type: 'string', default: '4' },
      'in-flight': { type: 'string', default: '256' },
      'join-p99': { type: 'string', default: '100' },
      'match-p99': { type: 'string', default: '250' },
      'keep-logs': { type: 'boolean', default: false },
      source: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    console.log(HELP);
    return;
  }
  const num = (name: keyof typeof args, min: number) => {
    const v = Number(args[name]);
    if (!Number.isFinite(v) || v < min) {
      process.stderr.write(`bench:e2e --capacity: --${name} must be a number ≥ ${min} (got ${args[name]})\n`);
      process.exit(2);
    }
    return v;
  };
  const o = {
    startRate: num('start-rate', 1),
    step: num('step', 1),
    maxRate: num('max-rate', 1),
    stepSeconds: num('step-duration', 1),
    warmup: num('warmup', 0),
    cancelRate: num('cancel', 0),
    workers: num('workers', 1),
    pools: num('pools', 1),
    inFlight: num('in-flight', 1),
    joinP99: num('join-p99', 1),
    matchP99: num('match-p99', 1),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const runId = Date.now().toString(36);

  // A database and a Redis server of the stack's own: their counters are the stack's.
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
  const database = `mm_capacity_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${database}`;
  const redisServer = await RedisServer.start();
  process.env.TEST_DATABASE_URL = dbUrl.toString();
  process.env.REDIS_URL = redisServer.url;
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const counters = new pg.Client({ connectionString: adminUrl });
  await counters.connect();

  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    log(`starting the stack (${o.workers} workers) on database ${database} and Redis ${redisServer.url}…`);
    stack = await startStack({
      workers: o.workers,
      label: 'capacity',
      logLevel: 'warn',
      keepLogs: args['keep-logs'],
      compiled: !args.source,
      env: { WORKER_INTERVAL_SECONDS: '1' },
    });
    const s = stack;
    const store = await createEventStore(s.config.eventStoreUrl, {
      postgres: { schema: s.schema, poolSize: 2, applicationName: READER },
    });
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);

    // Per phase (the prefix of its players' ids): when the bench saw each join, and the
    // second compatible join → MatchCreated gaps of the matches whose two players are its own.
    const phases = new Map<string, { joinedAt: Map<string, number>; matchMs: number[] }>();
    const phaseOf = (userId: unknown) => {
      if (typeof userId !== 'string') return undefined;
      const dash = userId.indexOf('-');
      return dash < 0 ? undefined : phases.get(userId.slice(0, dash + 1));
    };
    const onEvent = (event: RecordedEvent) => {
      const t = performance.now();
      // biome-ignore lint/suspicious/noExplicitAny: raw event data
      const d: any = event.data;
      if (event.type === 'QueueJoined') phaseOf(d.userId)?.joinedAt.set(d.queueEntryId, t);
      else if (event.type === 'MatchCreated') {
        const phase = phaseOf(d.white?.userId);
        if (!phase || phase !== phaseOf(d.black?.userId)) return;
        const w = phase.joinedAt.get(d.white.queueEntryId);
        const b = phase.joinedAt.get(d.black.queueEntryId);
        if (w !== undefined && b !== undefined) phase.matchMs.push(t - Math.max(w, b));
      }
    };
    const subscription = store.subscribeToAll({
      filter: { eventTypes: ['QueueJoined', 'MatchCreated'] },
      handler: onEvent,
      onError: (error) => log(`subscription failed: ${String(error)}`),
    });
    await subscription.caughtUp;

    const client = new MatchmakingClient(s.apiUrl);
    const random = seeded(42);
    const pids = (...ps: { pid: number | undefined }[]) => ps.flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
    const groups = async (): Promise<Record<string, number[]>> => {
      const rows = (
        await counters.query<{ pid: number; reader: boolean }>(
          'SELECT pid, application_name = $2 AS reader FROM pg_stat_activity WHERE datname = $1',
          [database, READER],
        )
      ).rows;
      return {
        api: pids(s.api),
        worker: pids(...s.workers),
        projector: pids(...s.projectors),
        'live-game-sim': pids(s.sim),
        postgres: rows.filter((r) => !r.reader).map((r) => r.pid),
        redis: Number.isFinite(redisPid) ? [redisPid] : [],
        'bench-reader-postgres': rows.filter((r) => r.reader).map((r) => r.pid),
      };
    };
    const pgCommits = async () => {
      await counters.query('SELECT pg_stat_clear_snapshot()');
      const r = await counters.query<{ n: string }>(
        'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
        [database],
      );
      return Number(r.rows[0]?.n ?? 0);
    };
    // Row writes and index scans per table (the stack's schema): where the transactions go.
    const tableStats = async () => {
      const db = new pg.Client({ connectionString: dbUrl.toString() });
      await db.connect();
      try {
        const r = await db.query<{ name: string; writes: string; reads: string }>(
          `SELECT relname AS name, n_tup_ins + n_tup_upd + n_tup_del AS writes,
                  coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS reads
             FROM pg_stat_user_tables WHERE schemaname = $1`,
          [s.schema],
        );
        return new Map(r.rows.map((row) => [row.name, { writes: Number(row.writes), reads: Number(row.reads) }]));
      } finally {
        await db.end();
      }
    };
    const redisCommands = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
    // Calls per command (commands run by Lua scripts included), to see where the round trips go.
    const redisCommandStats = async () =>
      new Map(
        [...(await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(
          (m) => [m[1]!, Number(m[2])] as const,
        ),
      );

    const drive = async (prefix: string, rate: number, seconds: number) => {
      const phase = { joinedAt: new Map<string, number>(), matchMs: [] as number[] };
      phases.set(prefix, phase);
      const joinMs: number[] = [];
      let rejected = 0;
      const started = performance.now();
      const { cancels } = await driveJoins({
        client,
        tenantId: TENANT,
        prefix,
        count: Math.round(rate * seconds),
        ratePerSecond: rate,
        maxInFlight: o.inFlight,
        pools: o.pools,
        cancelRate: o.cancelRate,
        random,
        onJoined: (res) => joinMs.push(res.ms),
        onRejected: () => rejected++,
      });
      const joinSeconds = (performance.now() - started) / 1000;
      await cancels;
      // Drain: until no match of this phase has been seen for a second (at most 10 s).
      const until = performance.now() + 10_000;
      let seen = -1;
      while (performance.now() < until && seen !== phase.matchMs.length) {
        seen = phase.matchMs.length;
        await sleep(1000);
      }
      return { phase, joinMs, rejected, accepted: joinMs.length, joinSeconds };
    };

    if (o.warmup > 0) {
      log(`warming up: ${o.startRate} joins/s for ${o.warmup} s (not in the figures)…`);
      await drive(`w${runId}-`, o.startRate, o.warmup);
    }

    const steps: Step[] = [];
    let capacity = 0;
    let best: Step | undefined;
    for (let rate = o.startRate, attempt = 1, k = 0; rate <= o.maxRate; k++) {
      log(`step ${k + 1}: ${rate} joins/s for ${o.stepSeconds} s${attempt > 1 ? ' (again)' : ''}…`);
      const cpu = startCpuSampler(groups);
      const [commits0, commands0, stats0, tables0] = [
        await pgCommits(),
        await redisCommands(),
        await redisCommandStats(),
        await tableStats(),
      ];
      const r = await drive(`s${k}${runId}-`, rate, o.stepSeconds);
      const report = await cpu.stop();
      await sleep(600); // table statistics reach pg_stat_user_tables within PGSTAT_MIN_INTERVAL (1 s)
      const [commits1, commands1, stats1, tables1] = [
        await pgCommits(),
        await redisCommands(),
        await redisCommandStats(),
        await tableStats(),
      ];
      const matches = r.phase.matchMs.length;
      const join = summarize(r.joinMs);
      const match = summarize(r.phase.matchMs);
      const acceptedRate = r.accepted / r.joinSeconds;
      const broken: string[] = [];
      if (acceptedRate < 0.95 * rate) broken.push(`accepted ${acceptedRate.toFixed(0)}/s < 95 % of ${rate}`);
      if (r.rejected > 0) broken.push(`${r.rejected} joins rejected`);
      if (join.p99 === null || join.p99 > o.joinP99) broken.push(`join p99 ${join.p99} ms > ${o.joinP99}`);
      if (match.p99 === null || match.p99 > o.matchP99) broken.push(`MatchCreated p99 ${match.p99} ms > ${o.matchP99}`);
      const perMatch = (v: number | null | undefined) =>
        v === null || v === undefined || matches === 0 ? null : round1((v * 1000) / matches);
      const service = ['api', 'worker', 'projector', 'postgres', 'redis'].reduce(
        (sum, name) => sum + (report.seconds[name] ?? 0),
        0,
      );
      const step: Step = {
        rate,
        attempt,
        accepted_joins_per_s: round1(acceptedRate),
        rejected: r.rejected,
        matches,
        join_http_ms: join,
        second_join_to_match_created_ms: match,
        held: broken.length === 0,
        broken,
        cpu_ms_per_match: {
          ...Object.fromEntries(Object.entries(report.seconds).map(([name, v]) => [name, perMatch(v)])),
          service: perMatch(service),
          machine: perMatch(report.machineBusySeconds),
        },
        machine_busy_cores: report.machineBusyCores === null ? null : round2(report.machineBusyCores),
        pg_transactions_per_match: matches ? round1((commits1 - commits0) / matches) : null,
        redis_commands_per_match: matches ? round1((commands1 - commands0) / matches) : null,
        pg_tables_per_match: Object.fromEntries(
          [...tables1]
            .map(([name, t]) => {
              const before = tables0.get(name) ?? { writes: 0, reads: 0 };
              return [name, { writes: t.writes - before.writes, scans: t.reads - before.reads }] as const;
            })
            .filter(([, t]) => t.writes + t.scans > 0)
            .sort((a, b) => b[1].writes + b[1].scans - (a[1].writes + a[1].scans))
            .map(([name, t]) => [
              name,
              matches ? { row_writes: round1(t.writes / matches), scans: round1(t.scans / matches) } : null,
            ]),
        ),
        redis_top_commands_per_match: Object.fromEntries(
          [...stats1]
            .map(([name, calls]) => [name, calls - (stats0.get(name) ?? 0)] as const)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 8)
            .map(([name, calls]) => [name, matches ? round1(calls / matches) : null]),
        ),
      };
      steps.push(step);
      log(
        `  ${step.held ? 'held' : `broke: ${broken.join('; ')}`} — join p99 ${join.p99} ms, MatchCreated p99 ${match.p99} ms, ${matches} matches, service CPU ${step.cpu_ms_per_match.service} ms/match`,
      );
      if (step.held) {
        capacity = rate;
        best = step;
        rate += o.step;
        attempt = 1;
      } else if (attempt === 1) attempt = 2;
      else break;
    }
    await subscription.close();
    await store.close();

    const result = {
      bench: 'e2e-capacity',
      workers: o.workers,
      pools: o.pools,
      step_s: o.stepSeconds,
      slo: { join_http_p99_ms: o.joinP99, match_created_p99_ms: o.matchP99 },
      capacity_joins_per_s: capacity,
      cpu_ms_per_match_machine: best?.cpu_ms_per_match.machine ?? null,
      cpu_ms_per_match_service: best?.cpu_ms_per_match.service ?? null,
      cpu_ms_per_match: best?.cpu_ms_per_match ?? null,
      pg_transactions_per_match: best?.pg_transactions_per_match ?? null,
      redis_commands_per_match: best?.redis_commands_per_match ?? null,
      redis_top_commands_per_match: best?.redis_top_commands_per_match ?? null,
      pg_tables_per_match: best?.pg_tables_per_match ?? null,
      load_average_1m: loadAverage(),
      steps,
    };
    printTable(result);
    console.log(JSON.stringify(result));
  } finally {
    await stack?.stop().catch(() => undefined);
    redis.disconnect();
    await redisServer.stop().catch(() => undefined);
    await counters.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

interface Step {
  rate: number;
  attempt: number;
  accepted_joins_per_s: number;
  rejected: number;
  matches: number;
  join_http_ms: Summary;
  second_join_to_match_created_ms: Summary;
  held: boolean;
  broken: string[];
  cpu_ms_per_match: Record<string, number | null>;
  machine_busy_cores: number | null;
  pg_transactions_per_match: number | null;
  redis_commands_per_match: number | null;
  redis_top_commands_per_match: Record<string, number | null>;
  pg_tables_per_match: Record<string, { row_writes: number; scans: number } | null>;
}

function printTable(r: {
  capacity_joins_per_s: number;
  workers: number;
  pools: number;
  step_s: number;
  slo: { join_http_p99_ms: number; match_created_p99_ms: number };
  load_average_1m: number | null;
  steps: Step[];
}): void {
  const cpuNames = ['api', 'worker', 'projector', 'postgres', 'redis', 'live-game-sim', 'driver', 'service', 'machine'];
  const head = [
    'rate/s',
    'accepted/s',
    'join p50',
    'join p99',
    'match p50',
    'match p99',
    'matches',
    ...cpuNames,
    'pg tx',
    'redis cmd',
    'held',
  ];
  const rows = r.steps.map((s) => [
    `${s.rate}${s.attempt > 1 ? '*' : ''}`,
    String(s.accepted_joins_per_s),
    fmt(s.join_http_ms.p50),
    fmt(s.join_http_ms.p99),
    fmt(s.second_join_to_match_created_ms.p50),
    fmt(s.second_join_to_match_created_ms.p99),
    String(s.matches),
    ...cpuNames.map((n) => fmt(s.cpu_ms_per_match[n] ?? null)),
    fmt(s.pg_transactions_per_match),
    fmt(s.redis_commands_per_match),
    s.held ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}`;
  console.log(
    [
      '',
      `capacity search — ${r.workers} workers, ${r.pools} pools, ${r.step_s} s steps; SLO: join HTTP p99 ≤ ${r.slo.join_http_p99_ms} ms, 2nd join → MatchCreated p99 ≤ ${r.slo.match_created_p99_ms} ms, accepted ≥ 95 %, no rejection`,
      '  latencies in ms; CPU in ms per match (postgres = the stack’s backends, service = api+worker+projector+postgres+redis, machine = /proc/stat, everything on the machine); * = a step run again',
      line(head),
      ...rows.map(line),
      '',
      `  capacity: ${r.capacity_joins_per_s} joins/s (load average at the end ${r.load_average_1m ?? '—'})`,
      '',
    ].join('\n'),
  );
}

const loadAverage = (): number | null => {
  const one = loadavg()[0];
  return one === undefined ? null : Math.round(one * 100) / 100;
};

const round1 = (v: number) => Math.round(v * 10) / 10;
const round2 = (v: number) => Math.round(v * 100) / 100;
const fmt = (v: number | null) => (v === null ? '—' : String(v));

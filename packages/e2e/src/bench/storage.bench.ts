import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { toArchiveLine } from '@mm/event-store/archive';
import { createTestRedis } from '@mm/testing';
import pg from 'pg';
import { MatchmakingClient } from '../driver/matchmaking-client.js';
import { runPaced, seeded, sleep } from '../driver/pacing.js';
import { type Stack, startStack } from '../stack/stack.js';
import { type RedisFamily, type RelationSize, redisFamilies, relationSizes } from './storage-measure.js';

/*
 * pnpm bench:storage — what one join costs in storage, through the running stack.
 *
 * Drives --joins joins at --rate over --pools pools (ratings 1450–1549: any two in a pool
 * accept each other, so nearly every join is matched and gets a game), waits until every match
 * is finished and the log has stopped growing, runs VACUUM (ANALYZE) on the stack's schema, and
 * reports:
 *  - every table (heap + TOAST) and every index of the schema, bytes per join, grouped into the
 *    event store, the read models and the rest (API state);
 *  - Redis: MEMORY USAGE of every key of the stack's prefix by family; "after expiry" counts a
 *    key only when it has no TTL or outlives --redis-horizon seconds; the steady state at
 *    100 joins/s is Σ bytes × TTL × 100 / joins (keys without a TTL grow without bound);
 *  - the archive: the log as archive lines (NDJSON), gzip-compressed — what an archive of these
 *    events takes;
 *  - GB per day at 100 joins/s of PostgreSQL growth.
 * Progress on stderr; a table, then one JSON line (last line) on stdout.
 */
const HELP = `pnpm bench:storage [--joins 4000] [--rate 100] [--pools 4] [--workers 2] [--redis-horizon 3600]
                  [--retention-seconds N] [--keep-logs]

--retention-seconds N runs the stack with READ_MODEL_RETENTION_DAYS = N s (and the retention job
every 5 s), to see the hot read-model tables stay flat: run it for two durations (--joins) and
compare pg_read_model_bytes and read_model_rows.`;

const { values: args } = parseArgs({
  options: {
    joins: { type: 'string', default: '4000' },
    rate: { type: 'string', default: '100' },
    pools: { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
    'redis-horizon': { type: 'string', default: '3600' },
    'retention-seconds': { type: 'string' },
    'in-flight': { type: 'string', default: '64' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const numberArg = (name: string, value: string | undefined, min: number): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`bench:storage: --${name} must be a number ≥ ${min} (got ${String(value)})\n`);
    process.exit(2);
  }
  return n;
};
const joins = Math.floor(numberArg('joins', args.joins, 2));
const rate = numberArg('rate', args.rate, 1);
const poolCount = Math.min(8, Math.floor(numberArg('pools', args.pools, 1)));
const workerCount = Math.floor(numberArg('workers', args.workers, 1));
const horizon = numberArg('redis-horizon', args['redis-horizon'], 0);
const inFlight = Math.floor(numberArg('in-flight', args['in-flight'], 1));
const retentionSeconds =
  args['retention-seconds'] === undefined ? undefined : numberArg('retention-seconds', args['retention-seconds'], 1);
const log = (line: string) => process.stderr.write(`[bench:storage] ${line}\n`);

const TIME_CONTROLS = ['3+0', '5+0', '10+0', '1+0', '3+2', '5+3', '10+5', '15+10'];
const TENANT = 'storage';
const JOINS_PER_DAY_AT_100 = 100 * 86_400;
const runId = Date.now().toString(36);

interface LogCounts {
  events: number;
  joins: number;
  matches: number;
  finished: number;
  head: string | null;
}

async function logCounts(db: pg.Pool, schema: string): Promise<LogCounts> {
  const { rows } = await db.query<{ events: string; joins: string; matches: string; finished: string; head: string }>(
    `SELECT count(*) AS events,
            count(*) FILTER (WHERE type = 'QueueJoined') AS joins,
            count(*) FILTER (WHERE type = 'MatchCreated') AS matches,
            count(*) FILTER (WHERE type IN ('GameCreated', 'MatchAborted')) AS finished,
            max(position)::text AS head
       FROM "${schema}".event_log`,
  );
  const row = rows[0]!;
  return {
    events: Number(row.events),
    joins: Number(row.joins),
    matches: Number(row.matches),
    finished: Number(row.finished),
    head: row.head,
  };
}

/** Every match finished (game or abort), the log unchanged for 3 s and the projector at its head. */
async function settle(db: pg.Pool, schema: string, timeoutMs: number): Promise<LogCounts> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  let stableSince = Date.now();
  for (;;) {
    const counts = await logCounts(db, schema);
    // The read models follow the player, match and challenge streams (not the pool streams).
    const behind = await db.query<{ behind: boolean }>(
      `SELECT coalesce((SELECT position FROM "${schema}".projection_checkpoints WHERE name = 'read-models'), -1)
                < coalesce((SELECT max(position) FROM "${schema}".event_log
                              WHERE category IN ('player', 'match', 'challenge')), -1) AS behind`,
    );
    const key = `${counts.head}/${counts.finished}`;
    if (key !== previous) {
      previous = key;
      stableSince = Date.now();
    }
    const projected = !behind.rows[0]!.behind;
    if (counts.finished === counts.matches && projected && Date.now() - stableSince >= 3000) return counts;
    if (Date.now() > deadline) {
      log(`not settled after ${timeoutMs / 1000} s (${counts.finished}/${counts.matches} matches finished)`);
      return counts;
    }
    await sleep(1000);
  }
}

interface TypeSize {
  type: string;
  count: number;
  /** Average JSON length of `data` and of `metadata`. */
  data: number;
  metadata: number;
  /** Average bytes of the stored data column: `json` text, or compressed (`data_deflated`). */
  stored?: number;
  /** Share of this type's rows stored compressed. */
  compressed?: number;
}

/** Per event type: average bytes of the data as stored, and the share stored compressed. */
async function storedDataBytes(
  db: pg.Pool,
  schema: string,
): Promise<Map<string, { stored: number; compressed: number }>> {
  const { rows } = await db.query<{ type: string; stored: string; compressed: string }>(
    `SELECT t.name AS type,
            avg(coalesce(octet_length(e.data::text), 0) + coalesce(octet_length(e.data_deflated), 0))::text AS stored,
            avg((e.data_deflated IS NOT NULL)::int)::text AS compressed
       FROM "${schema}".events e JOIN "${schema}".event_types t ON t.id = e.type_id
      GROUP BY t.name`,
  );
  return new Map(rows.map((r) => [r.type, { stored: Number(r.stored), compressed: Number(r.compressed) }]));
}

async function archiveBytes(stack: Stack): Promise<{ ndjson: number; gzip: number; types: TypeSize[] }> {
  const lines: string[] = [];
  const types = new Map<string, TypeSize>();
  let after = -1;
  for (;;) {
    const page = await stack.store.readAll({ after, maxCount: 5000 });
    if (page.length === 0) break;
    for (const event of page) {
      lines.push(toArchiveLine(event));
      let t = types.get(event.type);
      if (!t) {
        t = { type: event.type, count: 0, data: 0, metadata: 0 };
        types.set(event.type, t);
      }
      t.count++;
      t.data += JSON.stringify(event.data).length;
      t.metadata += JSON.stringify(event.metadata).length;
    }
    after = page[page.length - 1]!.position;
  }
  const text = Buffer.from(`${lines.join('\n')}\n`);
  return {
    ndjson: text.length,
    gzip: gzipSync(text, { level: 9 }).length,
    types: [...types.values()]
      .map((t) => ({ ...t, data: Math.round(t.data / t.count), metadata: Math.round(t.metadata / t.count) }))
      .sort((a, b) => b.count * b.data - a.count * a.data),
  };
}

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const load0 = loadavg()[0]!;
  log(`starting the stack (${workerCount} workers)…`);
  const stack = await startStack({
    workers: workerCount,
    label: 'bench_storage',
    logLevel: 'warn',
    keepLogs: args['keep-logs'],
    env: {
      WORKER_INTERVAL_SECONDS: '1',
      ...(retentionSeconds === undefined
        ? {}
        : { READ_MODEL_RETENTION_DAYS: String(retentionSeconds / 86_400), RETENTION_INTERVAL_SECONDS: '5' }),
    },
  });
  const db = new pg.Pool({ connectionString: stack.config.DATABASE_URL, max: 2 });
  db.on('error', () => undefined);
  const redis = createTestRedis();
  try {
    const client = new MatchmakingClient(stack.apiUrl);
    const random = seeded(7);
    let accepted = 0;
    let refused = 0;
    const started = performance.now();
    await runPaced(
      joins,
      rate,
      inFlight,
      async (i) => {
        const rating = 1450 + Math.floor(random() * 100);
        const res = await client.join(TENANT, `s${runId}-${i}_r${rating}`, TIME_CONTROLS[i % poolCount]!, 'rated');
        if (res.status === 201) accepted++;
        else refused++;
      },
      (n) => {
        if (n % 1000 === 0) log(`${n} joins sent`);
      },
    );
    const driveS = (performance.now() - started) / 1000;
    const load1 = loadavg()[0]!;
    log(`${accepted} joins accepted in ${driveS.toFixed(1)} s (${refused} refused); settling…`);
    const counts = await settle(db, stack.schema, 180_000);
    const deadBefore = await db.query<{ relname: string; n_dead_tup: string }>(
      `SELECT relname, n_dead_tup::text FROM pg_stat_user_tables WHERE schemaname = $1 AND n_dead_tup > 0`,
      [stack.schema],
    );
    log('VACUUM (ANALYZE)…');
    await db.query(`SET search_path TO "${stack.schema}"`);
    const tables = await db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [stack.schema],
    );
    for (const { relname } of tables.rows) await db.query(`VACUUM (ANALYZE) "${stack.schema}"."${relname}"`);
    const sizes = await relationSizes(db, stack.schema);
    const families = await redisFamilies(redis, stack.redisPrefix, horizon);
    log('archiving the log in memory…');
    const archive = await archiveBytes(stack);
    const stored = await storedDataBytes(db, stack.schema);
    for (const t of archive.types) {
      const s = stored.get(t.type);
      if (s) {
        t.stored = Math.round(s.stored);
        t.compressed = round(s.compressed, 2);
      }
    }
    const result = report(
      counts,
      accepted,
      driveS,
      sizes,
      families,
      archive,
      deadBefore.rows.map((r) => ({ table: r.relname, dead: Number(r.n_dead_tup) })),
      {
        before: round(load0, 2),
        during: round(load1, 2),
        cores: cpus().length,
      },
    );
    console.log(JSON.stringify(result));
  } finally {
    redis.disconnect();
    await db.end().catch(() => undefined);
    await stack.stop();
  }
}

function report(
  counts: LogCounts,
  accepted: number,
  driveS: number,
  sizes: RelationSize[],
  families: RedisFamily[],
  archive: { ndjson: number; gzip: number; types: TypeSize[] },
  dead: { table: string; dead: number }[],
  load: { before: number; during: number; cores: number },
) {
  const perJoin = (bytes: number) => bytes / Math.max(1, counts.joins);
  const sum = (rows: RelationSize[]) => rows.reduce((acc, row) => acc + row.bytes, 0);
  const group = (g: RelationSize['group']) => sizes.filter((row) => row.group === g);
  const eventBytes = sum(group('event_store'));
  const readModelBytes = sum(group('read_models'));
  const otherBytes = sum(group('other'));
  const pgBytes = eventBytes + readModelBytes + otherBytes;
  const redisBytes = families.reduce((acc, f) => acc + f.bytes, 0);
  const redisAfter = families.reduce((acc, f) => acc + f.bytesAfterHorizon, 0);
  const redisPersistentKeys = families.reduce((acc, f) => acc + f.persistent, 0);
  const redisSteadyBytes = (families.reduce((acc, f) => acc + f.byteSeconds, 0) * 100) / Math.max(1, counts.joins);

  const lines: string[] = [];
  lines.push(
    `bench:storage — ${counts.joins} joins (${accepted} accepted by this run in ${driveS.toFixed(1)} s), ${counts.matches} matches, ${counts.events} events (${round(counts.events / Math.max(1, counts.joins), 2)} per join)`,
  );
  lines.push(`load average ${load.before} before, ${load.during} after driving (${load.cores} cores, shared)`);
  if (retentionSeconds !== undefined)
    lines.push(`read-model retention: ${retentionSeconds} s (rows that ended earlier leave the hot tables)`);
  lines.push('');
  lines.push('PostgreSQL after VACUUM                       bytes   B/join   rows');
  for (const g of ['event_store', 'read_models', 'other'] as const) {
    for (const row of group(g)) {
      const name = row.kind === 'table' ? `${g === 'other' ? 'other.' : ''}${row.table}` : `  ${row.relation}`;
      lines.push(
        `  ${name.padEnd(42)} ${String(row.bytes).padStart(9)} ${perJoin(row.bytes).toFixed(0).padStart(8)} ${row.kind === 'table' ? String(row.rows).padStart(6) : ''}`,
      );
    }
    const total = sum(group(g));
    lines.push(`  ${`= ${g}`.padEnd(42)} ${String(total).padStart(9)} ${perJoin(total).toFixed(0).padStart(8)}`);
  }
  if (dead.length > 0) lines.push(`  dead rows before VACUUM: ${dead.map((d) => `${d.table} ${d.dead}`).join(', ')}`);
  lines.push('');
  lines.push('Events by type (JSON as written)       count  per join  data B  metadata B  stored data B  compressed');
  for (const t of archive.types)
    lines.push(
      `  ${t.type.padEnd(34)} ${String(t.count).padStart(7)} ${(t.count / Math.max(1, counts.joins)).toFixed(2).padStart(9)} ${String(t.data).padStart(7)} ${String(t.metadata).padStart(11)} ${String(t.stored ?? '—').padStart(14)} ${t.compressed === undefined ? '—'.padStart(11) : `${Math.round(t.compressed * 100)} %`.padStart(11)}`,
    );
  lines.push('');
  lines.push(
    `Redis (horizon ${horizon} s)               keys    bytes   B/join  B/join after horizon  persistent keys`,
  );
  for (const f of families) {
    lines.push(
      `  ${f.family.padEnd(36)} ${String(f.keys).padStart(6)} ${String(f.bytes).padStart(9)} ${perJoin(f.bytes).toFixed(0).padStart(8)} ${perJoin(f.bytesAfterHorizon).toFixed(0).padStart(21)} ${String(f.persistent).padStart(16)}   largest ${f.largest.key} ${f.largest.bytes} B`,
    );
  }
  lines.push(
    `  = total: ${perJoin(redisBytes).toFixed(0)} B/join now, ${perJoin(redisAfter).toFixed(0)} B/join after ${horizon} s; steady state at 100 joins/s ≈ ${(redisSteadyBytes / 1e6).toFixed(0)} MB (+ keys without TTL: ${redisPersistentKeys})`,
  );
  lines.push('');
  lines.push(
    `Archive (archive lines, gzip -9): ${archive.gzip} bytes = ${perJoin(archive.gzip).toFixed(0)} B/join (NDJSON ${perJoin(archive.ndjson).toFixed(0)} B/join)`,
  );
  const gbPerDay = (perJoin(pgBytes) * JOINS_PER_DAY_AT_100) / 1e9;
  lines.push(
    `At 100 joins/s: PostgreSQL grows ${gbPerDay.toFixed(1)} GB/day (events ${((perJoin(eventBytes) * JOINS_PER_DAY_AT_100) / 1e9).toFixed(1)}, read models ${((perJoin(readModelBytes) * JOINS_PER_DAY_AT_100) / 1e9).toFixed(1)}, other ${((perJoin(otherBytes) * JOINS_PER_DAY_AT_100) / 1e9).toFixed(1)}); archives ${((perJoin(archive.gzip) * JOINS_PER_DAY_AT_100) / 1e9).toFixed(2)} GB/day`,
  );
  console.log(lines.join('\n'));

  return {
    bench: 'storage',
    joins: counts.joins,
    matches: counts.matches,
    events: counts.events,
    drive_s: round(driveS, 1),
    pg_event_bytes_per_join: round(perJoin(eventBytes)),
    pg_read_model_bytes_per_join: round(perJoin(readModelBytes)),
    pg_other_bytes_per_join: round(perJoin(otherBytes)),
    pg_relations: Object.fromEntries(sizes.map((row) => [row.relation, round(perJoin(row.bytes))])),
    redis_bytes_per_join_now: round(perJoin(redisBytes)),
    redis_bytes_per_join: round(perJoin(redisAfter)),
    redis_horizon_s: horizon,
    redis_persistent_keys: redisPersistentKeys,
    redis_steady_state_mb_at_100_per_s: round(redisSteadyBytes / 1e6, 1),
    redis_families: Object.fromEntries(families.map((f) => [f.family, round(perJoin(f.bytes))])),
    archive_bytes_per_join: round(perJoin(archive.gzip)),
    archive_ndjson_bytes_per_join: round(perJoin(archive.ndjson)),
    event_types: Object.fromEntries(
      archive.types.map((t) => [
        t.type,
        {
          count: t.count,
          data: t.data,
          metadata: t.metadata,
          stored: t.stored ?? null,
          compressed: t.compressed ?? null,
        },
      ]),
    ),
    projected_gb_per_day: round(gbPerDay, 2),
    pg_read_model_bytes: readModelBytes,
    read_model_rows: Object.fromEntries(
      group('read_models')
        .filter((row) => row.kind === 'table')
        .map((row) => [row.table, row.rows]),
    ),
    retention_s: retentionSeconds ?? null,
    load_average_1m: { before: load.before, after_drive: load.during },
    cores: load.cores,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:storage: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

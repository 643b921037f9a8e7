/**
 * `pnpm bench:replay` — replays of a realistic log of BENCH_EVENTS (default 1,000,000) events.
 *
 * Writes the log into a fresh schema of TEST_DATABASE_URL (or DATABASE_URL) through the
 * domain's own deciders (packages/replay/src/synthetic: matches with games, aborts with
 * releases, cancels, time-outs and challenges over BENCH_TENANTS tenants), with big
 * multi-stream appends, then measures in the same run:
 *
 * - a raw keyset `SELECT` scan of the same events (same columns, pages of 2000) — the yardstick;
 *   then the same scan with each row's data decoded (inflated and parsed): `raw_scan_decoded_rps`,
 *   a second yardstick for a log whose data is compressed (`rebuild_vs_raw_decoded`);
 * - `rebuildReadModels` into a fresh schema (what `mm rebuild read-models` does): events/s, and
 *   where its time went (`phases`: first page, log folded, last write, index builds);
 * - the streaming audit (what `mm audit` does) in a process of its own: events/s and peak RSS;
 * - `mm explain match` on one match: BENCH_PASSES (default 2000) recorded pairing passes of 40
 *   entries on one pool stream (built by the worker's own record builder), the explained match's
 *   pass in the middle, in a log of their own (the measured log stays one the deciders wrote, so
 *   a kept log audits clean when measured again); median of 5 runs of `explainMatch` (find the
 *   record, explain, re-run).
 *
 * Goals: rebuild ≥ 0.5 × the raw scan; audit peak RSS ≤ 300 MB; explain ≤ 200 ms. Progress on stderr, a table,
 * then ONE JSON line last on stdout. The schemas are dropped afterwards (BENCH_KEEP=1 keeps the
 * log; BENCH_SCHEMA=<schema> measures a kept log again without writing one).
 *
 * It measures the compiled JavaScript, as the installed `mm` and the production images run it
 * (as `pnpm bench:e2e` runs its stack): it compiles first (`tsc -b`, only what changed), then runs
 * again from `dist/`. `--source` measures the TypeScript sources through tsx instead (`pnpm mm`
 * in the repository): every worker thread then registers tsx and transpiles its modules as it
 * starts (the rebuild's log reader thread: ≈ 0.6 s to its first page, while compiled it loads its
 * modules in ≈ 0.15 s).
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makePool, matchStream } from '@mm/contracts';
import { matchEventId } from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { createPostgresEventStore, inflateText } from '@mm/event-store/postgres';
import { defaultPairingConfig, type PoolEntry, pairPool } from '@mm/pairing';
import { buildWorkspace, workspaceRoot } from '@mm/testing/build';
import { appendPassRecord, buildPassRecord, buildQueueMatch, pairingPassId } from '@mm/workers';
import pg from 'pg';
import { explainMatch } from '../src/decisions/explain-match.js';
import { rebuildReadModels } from '../src/read-model-rebuild.js';
import { writeSyntheticLog } from '../src/synthetic/synthetic-log.js';

const target = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const tenants = Number(process.env.BENCH_TENANTS ?? 40);
const playersPerTenant = Number(process.env.BENCH_PLAYERS ?? 300);
const passes = Number(process.env.BENCH_PASSES ?? 2000);
const url =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const log = (message: string) => process.stderr.write(`[bench:replay] ${message}\n`);
/** Running the TypeScript sources (through tsx), not `dist/`. */
const fromSources = import.meta.url.endsWith('.ts');

/** BENCH_SCHEMA: measure an existing log (written by an earlier run with BENCH_KEEP=1) instead of writing one. */
const reuse = process.env.BENCH_SCHEMA;
const keep = process.env.BENCH_KEEP === '1' || reuse !== undefined;

async function main() {
  const schema = reuse ?? `bench_replay_${Date.now().toString(36)}`;
  const readModels = `${schema}_rm`;
  // the explained match and its passes go to a log of their own: a kept log stays one the deciders wrote
  const explainLog = `${schema}_explain`;
  const db = new pg.Pool({ connectionString: url, max: 4 });
  if (!reuse) await db.query(`CREATE SCHEMA "${schema}"`);
  await db.query(`DROP SCHEMA IF EXISTS "${readModels}" CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS "${explainLog}" CASCADE`);
  const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 4 });
  try {
    let t = performance.now();
    let next = 0;
    const summary = reuse
      ? await summaryOf(db, schema)
      : await writeSyntheticLog(store, {
          events: target,
          tenants,
          playersPerTenant,
          onProgress: (events) => {
            if (events >= next) {
              log(`log: ${events} events written`);
              next += 100_000;
            }
          },
        });
    const writeMs = reuse ? Number.NaN : performance.now() - t;
    if (keep) log(`log kept in schema ${schema} (BENCH_SCHEMA=${schema} measures it again)`);
    log(
      `log: ${summary.events} events in ${Math.round(writeMs / 1000)} s (${Math.round(summary.events / (writeMs / 1000))} events/s)`,
    );
    await db.query(`VACUUM ANALYZE "${schema}".events`);

    // The yardstick: the same rows, read raw in pages of 2000 (keyset on position).
    const raw = await rawScan(db, schema, false);
    const rows = raw.rows;
    const rawScanRps = raw.rps;
    log(`raw scan: ${rows} rows in ${raw.ms} ms (${rawScanRps} rows/s)`);
    // The second yardstick: the same scan, each row's data decoded (compressed rows inflated and parsed).
    const decoded = await rawScan(db, schema, true);
    log(`raw scan, data decoded: ${decoded.rows} rows in ${decoded.ms} ms (${decoded.rps} rows/s)`);

    t = performance.now();
    let shown = 0;
    const rebuilt = await rebuildReadModels({
      db,
      store,
      schema: readModels,
      onProgress: ({ events }) => {
        if (events >= shown) {
          log(`rebuild: ${events} events`);
          shown += 100_000;
        }
      },
    });
    const rebuildMs = performance.now() - t;
    const rebuildEps = Math.round(rebuilt.events / (rebuildMs / 1000));
    log(`rebuild: ${rebuilt.events} events in ${Math.round(rebuildMs)} ms (${rebuildEps} events/s)`);
    const phases = rebuilt.phases;

    const audit = await new Promise<{ events: number; ms: number; ok: boolean; violations: number; peakRssMb: number }>(
      (resolve, reject) =>
        execFile(
          process.execPath,
          fromSources
            ? ['--conditions=@mm/source', '--import', 'tsx', 'packages/replay/bench/audit-child.ts', url, schema]
            : [fileURLToPath(new URL('./audit-child.js', import.meta.url)), url, schema],
          { cwd: workspaceRoot, maxBuffer: 1 << 24 },
          (error, stdout, stderr) => {
            process.stderr.write(stderr);
            if (error) reject(error);
            else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
          },
        ),
    );
    const auditEps = Math.round(audit.events / (audit.ms / 1000));

    const explainStore = await createPostgresEventStore({ connectionString: url, schema: explainLog, poolSize: 2 });
    const explained = await benchExplain(explainStore).finally(() => explainStore.close());
    log(`explain: ${explained.ms} ms (median of 5; ${passes} passes on the pool stream, re-run ${explained.rerun})`);
    const result = {
      compiled: !fromSources,
      events: summary.events,
      tenants,
      players: tenants * playersPerTenant,
      matches: summary.matches,
      challenges: summary.challenges,
      write_eps: Math.round(summary.events / (writeMs / 1000)),
      raw_scan_rps: rawScanRps,
      rebuild_eps: rebuildEps,
      rebuild_vs_raw: Math.round((rebuildEps / rawScanRps) * 1000) / 1000,
      rebuild_first_page_ms: phases?.firstPageMs ?? null,
      rebuild_fold_ms: phases?.foldMs ?? null,
      rebuild_last_write_ms: phases?.lastWriteMs ?? null,
      rebuild_index_build_ms: phases?.indexBuildMs ?? null,
      raw_scan_decoded_rps: decoded.rps,
      rebuild_vs_raw_decoded: Math.round((rebuildEps / decoded.rps) * 1000) / 1000,
      audit_eps: auditEps,
      audit_peak_rss_mb: audit.peakRssMb,
      audit_ok: audit.ok,
      audit_violations: audit.violations,
      explain_ms: explained.ms,
      explain_rerun: explained.rerun,
    };
    const table: [string, string, string][] = [
      ['code', fromSources ? 'TypeScript sources through tsx (--source)' : 'compiled JavaScript (dist/)', ''],
      [
        'log written',
        `${result.events} events (${result.matches} matches, ${result.challenges} challenges)`,
        `${result.write_eps} events/s`,
      ],
      ['raw SELECT scan', `${rows} rows`, `${rawScanRps} rows/s`],
      ['raw scan, data decoded', `${decoded.rows} rows`, `${decoded.rps} rows/s`],
      [
        'rebuild read models',
        `${rebuilt.events} events`,
        `${rebuildEps} events/s  (${result.rebuild_vs_raw} × raw; goal ≥ 0.5; ${result.rebuild_vs_raw_decoded} × raw decoded)`,
      ],
      [
        '  where its time went',
        'from the start, ms',
        phases
          ? `first page ${phases.firstPageMs}, log folded ${phases.foldMs}; then last write ${phases.lastWriteMs}, index builds ${phases.indexBuildMs}`
          : '—',
      ],
      [
        'streaming audit',
        `${audit.events} events, ${audit.ok ? 'no violation' : `${audit.violations} violations`}`,
        `${auditEps} events/s, peak RSS ${audit.peakRssMb} MB (goal ≤ 300)`,
      ],
      [
        'mm explain match',
        `1 match, its pass among ${passes} recorded`,
        `${explained.ms} ms, re-run ${explained.rerun} (goal ≤ 200)`,
      ],
    ];
    for (const [what, size, figure] of table) process.stdout.write(`${what.padEnd(22)} ${size.padEnd(52)} ${figure}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.close();
    await db.query(`DROP SCHEMA IF EXISTS "${readModels}" CASCADE`).catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS "${explainLog}" CASCADE`).catch(() => undefined);
    if (!keep) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db.end();
  }
}

/**
 * Records `passes` pairing passes of one pool the way the pairing worker does, writes the
 * `MatchCreated` of the first pair of the middle pass, and times `explainMatch` on it.
 */
async function benchExplain(store: EventStore): Promise<{ ms: number; rerun: string }> {
  const tenantId = 'bench-explain';
  const pool = makePool('3+0', 'rated');
  let seed = 7; // a small LCG: the same passes every run
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const start = Date.parse('2026-11-30T12:00:00.000Z');
  let explained: string | undefined;
  for (let k = 0; k < passes; k++) {
    const now = start + k * 1000;
    const entries: PoolEntry[] = Array.from({ length: 40 }, (_, i) => ({
      entryId: `e-${k}-${i}`,
      userId: `u-${k}-${i}`,
      rating: Math.round(1200 + random() * 600),
      enqueuedAt: now - Math.floor(random() * 60_000),
    }));
    const result = pairPool(entries, now, defaultPairingConfig);
    if (result.pairs.length === 0) continue;
    const passId = pairingPassId(tenantId, pool.key, now, result.pairs);
    const fates = result.pairs.map((_, i) => ({ outcome: 'matched' as const, matchId: `m-${k}-${i}` }));
    if (k >= passes / 2 && !explained) {
      explained = fates[0]!.matchId;
      const decision = buildQueueMatch({
        matchId: explained,
        poolKey: pool.key,
        pair: result.pairs[0]!,
        decidedAt: now,
        passId,
      });
      await store.appendToStream(matchStream(explained), [
        {
          id: matchEventId(explained, 'created'),
          type: 'MatchCreated',
          data: decision,
          metadata: { tenantId, correlationId: explained, causationId: null, actor: { type: 'service', id: 'bench' } },
        },
      ]);
    }
    await appendPassRecord(
      { store },
      tenantId,
      buildPassRecord({
        passId,
        poolKey: pool.key,
        decidedAt: now,
        config: defaultPairingConfig,
        entries,
        result,
        fates,
      }),
    );
  }
  if (!explained) throw new Error('no pass paired anybody');
  const times: number[] = [];
  let rerun = '';
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    const explanation = await explainMatch(store, explained);
    times.push(performance.now() - t);
    rerun = explanation.rerun.status;
  }
  times.sort((a, b) => a - b);
  return { ms: Math.round(times[2]!), rerun };
}

/**
 * The same rows as the rebuild reads (categories player, match, challenge), `SELECT e.*` in pages
 * of 2000, keyset on position. `decode`: each row's data decoded as a reader needs it — compressed
 * data inflated with its dictionary (`inflateText`, the store's own inflater) and parsed; plain
 * `json` data comes parsed from the driver in both scans.
 */
async function rawScan(db: pg.Pool, schema: string, decode: boolean) {
  const dictionaries = new Map<number, Buffer>();
  if (decode) {
    const { rows } = await db.query<{ id: number; dictionary: Buffer }>(
      `SELECT id, dictionary FROM "${schema}".event_data_dictionaries`,
    );
    for (const row of rows) dictionaries.set(row.id, row.dictionary);
  }
  const t = performance.now();
  let rows = 0;
  let after = '-1';
  for (;;) {
    const page = await db.query<{
      position: string;
      data: unknown;
      data_deflated: Buffer | null;
      data_dictionary_id: number | null;
    }>(
      `SELECT e.* FROM "${schema}".events e
        WHERE e.position > $1
          AND e.category_id = ANY(ARRAY(SELECT id FROM "${schema}".event_categories WHERE name = ANY($2)))
        ORDER BY e.position LIMIT 2000`,
      [after, ['player', 'match', 'challenge']],
    );
    if (page.rows.length === 0) break;
    if (decode)
      for (const row of page.rows)
        if (row.data_deflated !== null && row.data_dictionary_id !== null)
          row.data = JSON.parse(inflateText(row.data_deflated, dictionaries.get(row.data_dictionary_id)!));
    rows += page.rows.length;
    after = page.rows[page.rows.length - 1]!.position;
  }
  const ms = performance.now() - t;
  return { rows, ms: Math.round(ms), rps: Math.round(rows / (ms / 1000)) };
}

/** What an existing log holds (for BENCH_SCHEMA). */
async function summaryOf(db: pg.Pool, schema: string) {
  const { rows } = await db.query<{ type: string; n: string }>(
    `SELECT t.name AS type, count(*) AS n FROM "${schema}".events e JOIN "${schema}".event_types t ON t.id = e.type_id
      GROUP BY t.name`,
  );
  const n = (type: string) => Number(rows.find((r) => r.type === type)?.n ?? 0);
  return {
    events: rows.reduce((sum, r) => sum + Number(r.n), 0),
    matches: n('MatchCreated'),
    challenges: n('ChallengeIssued'),
  };
}

if (fromSources && !process.argv.includes('--source')) {
  // the compiled bench: build, then run it from dist/ with the same arguments and environment
  log('compiling (tsc -b, only what changed)…');
  buildWorkspace();
  const compiled = spawn(
    process.execPath,
    [fileURLToPath(new URL('../dist/bench/replay.bench.js', import.meta.url)), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  compiled.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });

/**
 * `pnpm bench:replay` — replays of a realistic log of BENCH_EVENTS (default 1,000,000) events.
 *
 * Writes the log into a fresh schema of TEST_DATABASE_URL (or DATABASE_URL) through the
 * domain's own deciders (packages/replay/src/synthetic: matches with games, aborts with
 * releases, cancels, time-outs and challenges over BENCH_TENANTS tenants), with big
 * multi-stream appends, then measures in the same run:
 *
 * - a raw keyset `SELECT` scan of the same events (same columns, pages of 2000) — the yardstick;
 * - `rebuildReadModels` into a fresh schema (what `mm rebuild read-models` does): events/s;
 * - the streaming audit (what `mm audit` does) in a process of its own: events/s and peak RSS.
 *
 * Goals: rebuild ≥ 0.5 × the raw scan; audit peak RSS ≤ 300 MB. Progress on stderr, a table,
 * then ONE JSON line last on stdout. The schemas are dropped afterwards (BENCH_KEEP=1 keeps the
 * log; BENCH_SCHEMA=<schema> measures a kept log again without writing one).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import pg from 'pg';
import { rebuildReadModels } from '../src/read-model-rebuild.js';
import { writeSyntheticLog } from '../src/synthetic/synthetic-log.js';

const target = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const tenants = Number(process.env.BENCH_TENANTS ?? 40);
const playersPerTenant = Number(process.env.BENCH_PLAYERS ?? 300);
const url =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const log = (message: string) => process.stderr.write(`[bench:replay] ${message}\n`);
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** BENCH_SCHEMA: measure an existing log (written by an earlier run with BENCH_KEEP=1) instead of writing one. */
const reuse = process.env.BENCH_SCHEMA;
const keep = process.env.BENCH_KEEP === '1' || reuse !== undefined;

async function main() {
  const schema = reuse ?? `bench_replay_${Date.now().toString(36)}`;
  const readModels = `${schema}_rm`;
  const db = new pg.Pool({ connectionString: url, max: 4 });
  if (!reuse) await db.query(`CREATE SCHEMA "${schema}"`);
  await db.query(`DROP SCHEMA IF EXISTS "${readModels}" CASCADE`);
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
    t = performance.now();
    let rows = 0;
    let after = '-1';
    for (;;) {
      const page = await db.query<{ position: string }>(
        `SELECT position, transaction_id::text, stream_name, category, revision, id, type, schema_version, data, metadata, recorded_at
           FROM "${schema}".events WHERE position > $1 AND category = ANY($2) ORDER BY position LIMIT 2000`,
        [after, ['player', 'match', 'challenge']],
      );
      if (page.rows.length === 0) break;
      rows += page.rows.length;
      after = page.rows[page.rows.length - 1]!.position;
    }
    const rawMs = performance.now() - t;
    const rawScanRps = Math.round(rows / (rawMs / 1000));
    log(`raw scan: ${rows} rows in ${Math.round(rawMs)} ms (${rawScanRps} rows/s)`);

    t = performance.now();
    let shown = 0;
    const rebuilt = await rebuildReadModels({
      db,
      store,
      schema: readModels,
      batchSize: 2000,
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

    const audit = await new Promise<{ events: number; ms: number; ok: boolean; violations: number; peakRssMb: number }>(
      (resolve, reject) =>
        execFile(
          process.execPath,
          ['--conditions=@mm/source', '--import', 'tsx', 'packages/replay/bench/audit-child.ts', url, schema],
          { cwd: root, maxBuffer: 1 << 24 },
          (error, stdout, stderr) => {
            process.stderr.write(stderr);
            if (error) reject(error);
            else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
          },
        ),
    );
    const auditEps = Math.round(audit.events / (audit.ms / 1000));
    const result = {
      events: summary.events,
      tenants,
      players: tenants * playersPerTenant,
      matches: summary.matches,
      challenges: summary.challenges,
      write_eps: Math.round(summary.events / (writeMs / 1000)),
      raw_scan_rps: rawScanRps,
      rebuild_eps: rebuildEps,
      rebuild_vs_raw: Math.round((rebuildEps / rawScanRps) * 1000) / 1000,
      audit_eps: auditEps,
      audit_peak_rss_mb: audit.peakRssMb,
      audit_ok: audit.ok,
      audit_violations: audit.violations,
    };
    const table: [string, string, string][] = [
      [
        'log written',
        `${result.events} events (${result.matches} matches, ${result.challenges} challenges)`,
        `${result.write_eps} events/s`,
      ],
      ['raw SELECT scan', `${rows} rows`, `${rawScanRps} rows/s`],
      [
        'rebuild read models',
        `${rebuilt.events} events`,
        `${rebuildEps} events/s  (${result.rebuild_vs_raw} × raw; goal ≥ 0.5)`,
      ],
      [
        'streaming audit',
        `${audit.events} events, ${audit.ok ? 'no violation' : `${audit.violations} violations`}`,
        `${auditEps} events/s, peak RSS ${audit.peakRssMb} MB (goal ≤ 300)`,
      ],
    ];
    for (const [what, size, figure] of table) process.stdout.write(`${what.padEnd(22)} ${size.padEnd(52)} ${figure}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.close();
    await db.query(`DROP SCHEMA IF EXISTS "${readModels}" CASCADE`).catch(() => undefined);
    if (!keep) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db.end();
  }
}

/** What an existing log holds (for BENCH_SCHEMA). */
async function summaryOf(db: pg.Pool, schema: string) {
  const { rows } = await db.query<{ type: string; n: string }>(
    `SELECT type, count(*) AS n FROM "${schema}".events GROUP BY type`,
  );
  const n = (type: string) => Number(rows.find((r) => r.type === type)?.n ?? 0);
  return {
    events: rows.reduce((sum, r) => sum + Number(r.n), 0),
    matches: n('MatchCreated'),
    challenges: n('ChallengeIssued'),
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

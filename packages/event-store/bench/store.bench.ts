/**
 * `pnpm bench:store`: the postgres adapter against raw `pg` baselines on the same database.
 * Runs in a fresh schema (dropped afterwards) of DATABASE_URL or TEST_DATABASE_URL.
 * Progress goes to stderr; the table, ratios and (last line) one JSON object to stdout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPostgresEventStore } from '../src/postgres/postgres-event-store.js';
import { quoteIdentifier } from '../src/postgres/sql.js';
import type { EventData } from '../src/types.js';

const url =
  process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const appendsPerRun = Number(process.env.BENCH_APPENDS ?? 4000);
const readEvents = Number(process.env.BENCH_READ_EVENTS ?? 100_000);
const batchSize = 500;
const schema = `es_bench_${randomBytes(5).toString('hex')}`;
const progress = (message: string) => process.stderr.write(`[bench:store] ${message}\n`);

const metadata = { tenantId: 't1', correlationId: 'c1', causationId: null, actor: { type: 'user', id: 'u1' } } as const;
/** ~300 bytes as stored (data + metadata). */
const makeEvent = (index: number): EventData => ({
  id: randomUUID(),
  type: 'QueueJoined',
  data: { index, pool: '5+3-rated', rating: 1500 + (index % 400), note: randomBytes(64).toString('hex') },
  metadata: { ...metadata, actor: { ...metadata.actor } },
});

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

/** Runs `writers` loops concurrently until `total` operations are done; returns ops/s. */
const concurrently = async (writers: number, total: number, op: (writer: number, index: number) => Promise<void>) => {
  const perWriter = Math.ceil(total / writers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let index = 0; index < perWriter; index++) await op(writer, index);
    }),
  );
  return rate(perWriter * writers, performance.now() - started);
};

const admin = new pg.Client({ connectionString: url });
await admin.connect();
const q = quoteIdentifier(schema);
const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 9 });
const raw = new pg.Pool({ connectionString: url, max: 9 });
try {
  progress(`schema ${schema}; ${appendsPerRun} appends per run, ${readEvents} events for the read runs`);
  await admin.query(`CREATE TABLE ${q}.raw_events (
    position bigserial PRIMARY KEY, stream_name text NOT NULL, category text NOT NULL, revision bigint NOT NULL,
    id uuid NOT NULL, type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now())`);

  // Warm-up: connections, prepared statements, caches.
  await concurrently(8, 400, (writer, index) =>
    store.appendToStream(`warm-${writer}`, [makeEvent(index)]).then(() => undefined),
  );

  const appendRun = async (writers: number, label: string) => {
    progress(`append, ${writers} writer(s)…`);
    const revisions = new Map<string, number>();
    return concurrently(writers, appendsPerRun, async (writer, index) => {
      const stream = `player-${label}${writer}_${index}`;
      const result = await store.appendToStream(stream, [makeEvent(index)], { expectedRevision: 'no_stream' });
      revisions.set(stream, result.nextExpectedRevision);
    });
  };
  const insertSql = `INSERT INTO ${q}.raw_events (stream_name, category, revision, id, type, schema_version, data, metadata)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
  const rawInsertRun = async (writers: number, label: string) => {
    progress(`raw INSERT, ${writers} client(s)…`);
    return concurrently(writers, appendsPerRun, async (writer, index) => {
      const event = makeEvent(index);
      await raw.query({
        name: 'raw-insert',
        text: insertSql,
        values: [
          `player-${label}${writer}_${index}`,
          'player',
          0,
          event.id,
          event.type,
          1,
          JSON.stringify(event.data),
          JSON.stringify(event.metadata),
        ],
      });
    });
  };

  const append_eps = await appendRun(1, 'a');
  const raw_insert_rps = await rawInsertRun(1, 'a');
  const append8_eps = await appendRun(8, 'b');
  const raw_insert8_rps = await rawInsertRun(8, 'b');

  // Fill both tables up to `readEvents` rows with bulk inserts (not measured).
  const fill = async (count: number, insert: (events: EventData[], offset: number) => Promise<void>) => {
    for (let offset = 0; offset < count; offset += 1000) {
      const events = Array.from({ length: Math.min(1000, count - offset) }, (_, index) => makeEvent(offset + index));
      await insert(events, offset);
      if (offset % 20_000 === 0) progress(`filling… ${offset}/${count}`);
    }
  };
  const inStore = Number((await admin.query(`SELECT count(*) AS n FROM ${q}.events`)).rows[0].n);
  await fill(Math.max(0, readEvents - inStore), async (events, offset) => {
    await store.appendToStream(`fill-${offset}`, events);
  });
  const inRaw = Number((await admin.query(`SELECT count(*) AS n FROM ${q}.raw_events`)).rows[0].n);
  await fill(Math.max(0, readEvents - inRaw), async (events, offset) => {
    await admin.query(
      `INSERT INTO ${q}.raw_events (stream_name, category, revision, id, type, schema_version, data, metadata)
       SELECT 'fill-' || $1::text, 'fill', ord - 1, (value->>'id')::uuid, value->>'type', 1, value->'data', value->'metadata'
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(value, ord)`,
      [offset, JSON.stringify(events)],
    );
  });
  await admin.query(`VACUUM ANALYZE ${q}.events`);
  await admin.query(`VACUUM ANALYZE ${q}.raw_events`);

  progress(`catch-up subscription over ${readEvents} events…`);
  let handled = 0;
  const readStarted = performance.now();
  const subscription = store.subscribeToAll({
    batchSize,
    handler: () => {
      handled++;
    },
  });
  await subscription.caughtUp;
  const readMs = performance.now() - readStarted;
  await subscription.close();
  const read_eps = rate(handled, readMs);

  progress(`raw SELECT scan over ${readEvents} rows…`);
  let scanned = 0;
  const scanStarted = performance.now();
  let after = -1;
  for (;;) {
    const result = await raw.query({
      name: 'raw-scan',
      text: `SELECT position, stream_name, revision, id, type, schema_version, data, metadata, recorded_at
             FROM ${q}.raw_events WHERE position > $1 ORDER BY position LIMIT $2`,
      values: [after, batchSize],
    });
    scanned += result.rows.length;
    if (result.rows.length < batchSize) break;
    after = Number(result.rows[result.rows.length - 1].position);
  }
  const raw_scan_rps = rate(scanned, performance.now() - scanStarted);

  const append8_vs_raw = Number((append8_eps / raw_insert8_rps).toFixed(3));
  const read_vs_raw = Number((read_eps / raw_scan_rps).toFixed(3));
  const rows: [string, string, number][] = [
    ['append, 1 writer', 'events/s', append_eps],
    ['raw INSERT, 1 client', 'rows/s', raw_insert_rps],
    ['append, 8 writers', 'events/s', append8_eps],
    ['raw INSERT, 8 clients', 'rows/s', raw_insert8_rps],
    [`catch-up read (${handled} events)`, 'events/s', read_eps],
    [`raw SELECT scan (${scanned} rows)`, 'rows/s', raw_scan_rps],
  ];
  console.log('');
  console.log(`${'measure'.padEnd(34)}${'rate'.padStart(12)}  unit`);
  for (const [label, unit, value] of rows) console.log(`${label.padEnd(34)}${String(value).padStart(12)}  ${unit}`);
  console.log('');
  console.log(`append8 / raw_insert8 = ${append8_vs_raw} (target >= 0.5)${append8_vs_raw >= 0.5 ? '' : '  MISSED'}`);
  console.log(`append1 / raw_insert1 = ${(append_eps / raw_insert_rps).toFixed(3)}`);
  console.log(`read / raw_scan       = ${read_vs_raw} (target >= 0.5)${read_vs_raw >= 0.5 ? '' : '  MISSED'}`);
  console.log(
    JSON.stringify({
      append_eps,
      append8_eps,
      raw_insert_rps,
      raw_insert8_rps,
      read_eps,
      raw_scan_rps,
      append8_vs_raw,
      read_vs_raw,
    }),
  );
} finally {
  await store.close();
  await raw.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${q} CASCADE`);
  await admin.end();
  progress('schema dropped');
}

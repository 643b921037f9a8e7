/**
 * `pnpm bench:history`: what a player command costs as the player's history grows — with the
 * player state cache (`loadState` reads only what was appended since) against the same command
 * loading the whole stream (what every command did before the cache), in the same run, on
 * PostgreSQL. A player joins and cancels (two commands, two events) until the history holds
 * each size; at each size both variants run the same number of join + cancel cycles.
 * Runs in a fresh schema (dropped afterwards) of DATABASE_URL or TEST_DATABASE_URL.
 * Progress on stderr; a table, then one JSON object (the last line) on stdout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { makePool, playerStream } from '@mm/contracts';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { createPostgresEventStore } from '@mm/event-store/postgres';
import pg from 'pg';
import { handleCommand } from '../src/command-handling/handle-command.js';
import type { PlayerCommand } from '../src/player/player-commands.js';
import { playerDecider } from '../src/player/player-decider.js';

const HELP = `pnpm bench:history [--sizes 10,100,1000,3000] [--cycles 20]

--sizes   history sizes (joins already made by the player) at which to measure
--cycles  join + cancel cycles measured per size and variant`;
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,1000,3000' },
    cycles: { type: 'string', default: '20' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const sizes = args.sizes.split(',').map(Number);
const cycles = Number(args.cycles);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(cycles) || cycles < 1) {
  process.stderr.write('bench:history: --sizes takes positive integers (10,100,…), --cycles a positive integer\n');
  process.exit(2);
}
const sorted = [...sizes].sort((a, b) => a - b);

const url =
  process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const schema = `history_bench_${randomBytes(4).toString('hex')}`;
const progress = (message: string) => process.stderr.write(`[bench:history] ${message}\n`);

const store = await createPostgresEventStore({ connectionString: url, schema, poolSize: 2 });
const stream = playerStream('bench', 'alice');
const metadata: EventMetadata = {
  tenantId: 'bench',
  correlationId: randomUUID(),
  causationId: null,
  actor: { type: 'user', id: 'alice' },
};
const pool = makePool('3+0', 'rated');
const t0 = Date.parse('2026-12-01T00:00:00Z');
let clock = 0;

/** The same store under a new identity for every command: nothing is ever found in the state cache. */
const uncached = (): EventStore => ({ ...store });

const cycle = async (target: () => EventStore) => {
  const queueEntryId = randomUUID();
  const now = () => new Date(t0 + clock++ * 1000).toISOString();
  const run = async (command: PlayerCommand) => {
    const result = await handleCommand({
      store: target(),
      streamName: stream,
      decider: playerDecider,
      command,
      metadata,
    });
    if (!result.ok) throw new Error(`${command.type}: ${result.error.code} ${result.error.message}`);
  };
  await run({
    type: 'JoinQueue',
    userId: 'alice',
    queueEntryId,
    pool,
    rating: 1500,
    ratingSource: 'default',
    ratingRange: null,
    now: now(),
  });
  await run({ type: 'CancelQueueEntry', userId: 'alice', queueEntryId, now: now() });
};

const rows: { history: number; cached_ms: number; full_read_ms: number; ratio: number }[] = [];
const load0 = loadavg()[0]!;
try {
  let joins = 0;
  for (const size of sorted) {
    progress(`growing the history to ${size} joins…`);
    while (joins < size) {
      await cycle(() => store);
      joins++;
    }
    const time = async (target: () => EventStore) => {
      const started = performance.now();
      for (let i = 0; i < cycles; i++) await cycle(target);
      joins += cycles;
      return (performance.now() - started) / (2 * cycles);
    };
    const full = await time(uncached);
    const cached = await time(() => store);
    rows.push({ history: size, cached_ms: round(cached), full_read_ms: round(full), ratio: round(full / cached, 1) });
    progress(`${size}: cached ${cached.toFixed(2)} ms, full read ${full.toFixed(2)} ms per command`);
  }
} finally {
  await store.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}

function round(n: number, digits = 2) {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

console.log('Player command (join or cancel) by history size, ms per command, PostgreSQL');
console.log(
  `${'joins in history'.padStart(16)}  ${'cached'.padStart(8)}  ${'full read'.padStart(10)}  ${'× faster'.padStart(8)}`,
);
for (const r of rows)
  console.log(
    `${String(r.history).padStart(16)}  ${r.cached_ms.toFixed(2).padStart(8)}  ${r.full_read_ms.toFixed(2).padStart(10)}  ${r.ratio.toFixed(1).padStart(8)}`,
  );
const last = rows.at(-1)!;
console.log(
  JSON.stringify({
    bench: 'history',
    cycles,
    sizes: rows,
    largest_history: last.history,
    cached_ms_at_largest: last.cached_ms,
    full_read_ms_at_largest: last.full_read_ms,
    speedup_at_largest: last.ratio,
    load_average_1m: round(load0, 2),
  }),
);

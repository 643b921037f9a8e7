import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, pairingSettings } from '@mm/config';
import { createEventStore } from '@mm/event-store';
import { auditLog } from './audit-log.js';
import { formatGameReconciliation, type GameReconciliation, reconcileWithLiveGameApi } from './game-reconciliation.js';
import { readWholeLog } from './read-log.js';
import { formatReport } from './report.js';

const HELP = `pnpm audit [--settled] [--windows] [--json] [--url <event store url>] [--schema <schema>]
           [--live-game-api <url> [--live-game-token <token>]]

Reads the whole event log (EVENT_STORE_URL or DATABASE_URL, schema EVENT_STORE_SCHEMA),
replays it and re-checks invariants I1–I5. Progress on stderr, report on stdout.
Exit code: 0 no violations, 1 violations, 2 could not run.

  --settled   the system is idle: also require every match ended and nobody stuck
  --windows   also check recorded windows against the widening settings in the environment
              (INITIAL_RATING_WINDOW, RATING_WINDOW_WIDENING_STEP/_INTERVAL, MAX_RATING_WINDOW)
  --json      print the result as one JSON object instead of the report
  --live-game-api <url>
              also reconcile the log with live-game-api's games (GET <url>/internal/games):
              orphan games (not cancelled, of an aborted or unknown match) and missing games
              (GameCreated without the game); token: --live-game-token or LIVE_GAME_API_TOKEN`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      settled: { type: 'boolean', default: false },
      windows: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      schema: { type: 'string' },
      'live-game-api': { type: 'string' },
      'live-game-token': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig({
    ...process.env,
    ...(values.url ? { EVENT_STORE_URL: values.url } : {}),
    ...(values.schema ? { EVENT_STORE_SCHEMA: values.schema } : {}),
  });
  const store = await createEventStore(config.eventStoreUrl, {
    postgres: { schema: config.EVENT_STORE_SCHEMA, poolSize: 2 },
  });
  const started = Date.now();
  let events: Awaited<ReturnType<typeof readWholeLog>>;
  try {
    process.stderr.write(
      `reading the log from ${redact(config.eventStoreUrl)} (schema ${config.EVENT_STORE_SCHEMA})…\n`,
    );
    events = await readWholeLog(store, {
      onProgress: (read, position) => process.stderr.write(`\r  ${read} events read (position ${position})`),
    });
    process.stderr.write(`\n  ${events.length} events in ${Date.now() - started} ms; replaying…\n`);
  } finally {
    await store.close();
  }
  const settings = pairingSettings(config);
  const result = auditLog(events, {
    settled: values.settled,
    ...(values.windows ? { windowPolicy: settings } : {}),
  });
  process.stderr.write(`  audited in ${Date.now() - started} ms\n`);
  const liveGameApi = values['live-game-api'];
  let games: GameReconciliation | undefined;
  if (liveGameApi) {
    process.stderr.write(`  reconciling with the games of ${liveGameApi}…\n`);
    const token = values['live-game-token'] ?? config.LIVE_GAME_API_TOKEN;
    games = await reconcileWithLiveGameApi(events, liveGameApi, {
      settled: values.settled,
      ...(token ? { token } : {}),
    });
  }
  if (values.json) console.log(JSON.stringify(games ? { ...result, games } : result));
  else {
    console.log(formatReport(result, { settled: values.settled }));
    if (games) console.log(`\n${formatGameReconciliation(games)}`);
  }
  return result.ok && (games?.ok ?? true) ? 0 : 1;
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(2);
  },
);

import { parseArgs } from 'node:util';
import { ConfigError, databasePoolSizes, loadConfig, pairingSettings } from '@mm/config';
import { createEventStore, type RecordedEvent } from '@mm/event-store';
import { auditEventStore } from './audit-store.js';
import { formatGameReconciliation, type GameReconciliation, reconcileWithLiveGameApi } from './game-reconciliation.js';
import { formatReport } from './report.js';

const HELP = `pnpm audit [--settled] [--windows] [--json] [--url <event store url>] [--schema <schema>]
           [--live-game-api <url> [--live-game-token <token>]]

Reads the whole event log (EVENT_STORE_URL or DATABASE_URL, schema EVENT_STORE_SCHEMA) page by
page, replays it and re-checks invariants I1–I5 in constant memory (the same streaming audit as
\`pnpm mm audit\`, which adds --from/--to, --read-models and a progress bar). Progress on stderr,
report on stdout.
Exit code: 0 no violations, 1 violations, 2 could not run.

  --settled   the system is idle: also require every match ended and nobody stuck
  --windows   also check recorded windows against each pool's pairing policy in the environment
              (PAIRING_POLICIES, else INITIAL_RATING_WINDOW, RATING_WINDOW_WIDENING_STEP/_INTERVAL, MAX_RATING_WINDOW)
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
    postgres: {
      schema: config.EVENT_STORE_SCHEMA,
      poolSize: databasePoolSizes(config.DATABASE_POOL_SIZE, 'audit').eventStore,
    },
  });
  const started = Date.now();
  // Each pool's windows (PAIRING_POLICIES), as the worker paired it.
  const settings = (poolKey: string) => pairingSettings(config, poolKey);
  let result: Awaited<ReturnType<typeof auditEventStore>>;
  let games: GameReconciliation | undefined;
  try {
    process.stderr.write(
      `reading the log from ${redact(config.eventStoreUrl)} (schema ${config.EVENT_STORE_SCHEMA})…\n`,
    );
    result = await auditEventStore(store, {
      settled: values.settled,
      ...(values.windows ? { windowPolicy: settings } : {}),
      pageSize: 5000,
      onProgress: ({ events, position }) => process.stderr.write(`\r  ${events} events read (position ${position})`),
    });
    process.stderr.write(`\n  ${result.stats.events} events audited in ${Date.now() - started} ms\n`);
    const liveGameApi = values['live-game-api'];
    if (liveGameApi) {
      process.stderr.write(`  reconciling with the games of ${liveGameApi}…\n`);
      // Only the match streams are needed to know every match and its game.
      const matchEvents: RecordedEvent[] = [];
      for (let after = -1; ; ) {
        const page = await store.readAll({ after, maxCount: 5000, filter: { categories: ['match'] } });
        if (page.length === 0) break;
        matchEvents.push(...page);
        after = page[page.length - 1]!.position;
      }
      const token = values['live-game-token'] ?? config.LIVE_GAME_API_TOKEN;
      games = await reconcileWithLiveGameApi(matchEvents, liveGameApi, {
        settled: values.settled,
        ...(token ? { token } : {}),
      });
    }
  } finally {
    await store.close();
  }
  const { suppressed: _s, lastPosition: _l, footprint: _f, ...report } = result;
  if (values.json) console.log(JSON.stringify(games ? { ...report, games } : report));
  else {
    console.log(formatReport(report, { settled: values.settled }));
    if (games) console.log(`\n${formatGameReconciliation(games)}`);
  }
  return report.ok && (games?.ok ?? true) ? 0 : 1;
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(2);
  },
);

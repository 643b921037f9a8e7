import {
  AUDIT_HEAP_MB,
  auditEventStore,
  formatGameReconciliation,
  formatReport,
  reconcileWithLiveGameApi,
} from '@mm/audit';
import { pairingSettings } from '@mm/config';
import type { RecordedEvent } from '@mm/event-store';
import {
  auditDecisions,
  auditReadModels,
  countLogEvents,
  formatDecisionsAudit,
  formatReadModelDiff,
  type LogBound,
  parseLogBound,
  scanLog,
} from '@mm/replay';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_FINDING, EXIT_OK } from '../errors.js';
import { createOutput } from '../output.js';
import { createProgress } from '../progress.js';

type Run = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;

interface AuditFlags {
  settled?: boolean;
  windows?: boolean;
  from?: string;
  to?: string;
  readModels?: boolean;
  decisions?: boolean;
  liveGameApi?: string;
  liveGameToken?: string;
  json?: boolean;
  maxMemoryMb?: string;
}

export function registerAudit(program: Command, run: Run): void {
  program
    .command('audit')
    .description(
      'stream the log through the invariant audit (I1–I5) in constant memory; --read-models adds I6 for the read models (rebuild into a scratch schema up to the live checkpoint, then diff)',
    )
    .option('--settled', 'the system is idle: also require every match ended and nobody stuck')
    .option('--windows', 'also check recorded windows against the widening settings in the environment')
    .option('--from <position|time>', 'report violations from here on (the log before is replayed for its state)')
    .option('--to <position|time>', 'stop here (end-of-log checks apply to the state there)')
    .option('--read-models', 'I6: the live read models equal a fresh replay of the log')
    .option(
      '--decisions',
      'also re-run every recorded pairing pass in the range (--from/--to) and compare it with its record and its matches',
    )
    .option('--live-game-api <url>', "also reconcile the log's matches with live-game-api's games")
    .option('--live-game-token <token>', 'bearer token for live-game-api (default LIVE_GAME_API_TOKEN)')
    .option('--json', 'print the report as one JSON object (every violation with position, stream and code)')
    .option(
      '--max-memory-mb <mb>',
      `V8 heap cap of the audit process (it runs again under it; exit 2 with a message when the log needs more); 0: no cap (default ${AUDIT_HEAP_MB}, 768 with --read-models)`,
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 no violation, 1 violations, differences or a pass that does not re-run to its record, 2 could not run.
Configuration: EVENT_STORE_URL / DATABASE_URL, EVENT_STORE_SCHEMA, READ_MODEL_SCHEMA, and the window settings.`,
    )
    .action((opts: AuditFlags) =>
      run(async (ctx) => {
        const out = createOutput(Boolean(opts.json));
        const from: LogBound | undefined = opts.from ? parseLogBound(opts.from, '--from') : undefined;
        const to: LogBound | undefined = opts.to ? parseLogBound(opts.to, '--to') : undefined;
        const store = await ctx.store();
        const progress = createProgress('audit');
        const sizeDb = ctx.eventStoreDb();
        if (sizeDb) progress.total(await countLogEvents(sizeDb, ctx.config.EVENT_STORE_SCHEMA, to ? { to } : {}));
        const started = performance.now();
        const result = await auditEventStore(store, {
          settled: Boolean(opts.settled),
          ...(opts.windows ? { windowPolicy: (poolKey: string) => pairingSettings(ctx.config, poolKey) } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          onProgress: (p) => progress.update(p.events, p.position),
        });
        progress.stop();
        const ms = Math.round(performance.now() - started);
        // Streams of the violations, for scripts: by position, from a second look at those events only.
        const streams = await streamsAt(
          store,
          result.violations.map((v) => v.position).filter((p) => p !== undefined),
        );
        const violations = result.violations.map((v) => ({
          ...v,
          ...(v.position !== undefined && streams.has(v.position) ? { stream: streams.get(v.position) } : {}),
        }));

        let readModels: Awaited<ReturnType<typeof auditReadModels>> | undefined;
        if (opts.readModels) {
          const rmProgress = createProgress('I6 read models');
          readModels = await auditReadModels({
            db: ctx.db(),
            store,
            live: ctx.config.READ_MODEL_SCHEMA,
            onProgress: (p) => rmProgress.update(p.events, p.position),
          });
          rmProgress.stop();
        }
        let decisions: Awaited<ReturnType<typeof auditDecisions>> | undefined;
        if (opts.decisions) {
          const decisionsProgress = createProgress('decisions');
          decisions = await auditDecisions(store, {
            ...(from ? { from } : {}),
            ...(to ? { to } : {}),
            onProgress: (p) => decisionsProgress.update(p.events, p.position),
          });
          decisionsProgress.stop();
        }
        let games: Awaited<ReturnType<typeof reconcileWithLiveGameApi>> | undefined;
        if (opts.liveGameApi) {
          const matchEvents: RecordedEvent[] = [];
          await scanLog(store, (events) => void matchEvents.push(...events), {
            filter: { categories: ['match'] },
            ...(to ? { to } : {}),
          });
          const token = opts.liveGameToken ?? ctx.config.LIVE_GAME_API_TOKEN;
          games = await reconcileWithLiveGameApi(matchEvents, opts.liveGameApi, {
            settled: Boolean(opts.settled),
            ...(token ? { token } : {}),
          });
        }
        const ok =
          result.ok &&
          (readModels?.differing ?? 0) === 0 &&
          (decisions?.mismatches.length ?? 0) === 0 &&
          (games?.ok ?? true);
        out.result(
          () =>
            [
              formatReport({ ...result, violations }, { settled: Boolean(opts.settled) }),
              `  audited ${result.stats.events} events in ${ms} ms (${ms > 0 ? Math.round((result.stats.events / ms) * 1000) : 0} events/s), up to position ${result.lastPosition}` +
                `${result.suppressed ? `; ${result.suppressed} violation(s) before --from not reported` : ''}`,
              ...(readModels
                ? [
                    '',
                    `I6 read models: live ${ctx.config.READ_MODEL_SCHEMA} vs a replay of the log up to position ${readModels.position} (${readModels.events} events replayed; projector held ${readModels.heldMs} ms)`,
                    formatReadModelDiff(readModels),
                  ]
                : []),
              ...(decisions
                ? ['', formatDecisionsAudit(decisions, { ...(from ? { from } : {}), ...(to ? { to } : {}) })]
                : []),
              ...(games ? ['', formatGameReconciliation(games)] : []),
            ].join('\n'),
          () => ({
            ok,
            violations,
            stats: result.stats,
            warnings: result.warnings,
            suppressed: result.suppressed,
            lastPosition: result.lastPosition,
            footprint: result.footprint,
            ms,
            ...(readModels ? { readModels } : {}),
            ...(decisions ? { decisions } : {}),
            ...(games ? { games } : {}),
          }),
        );
        return ok ? EXIT_OK : EXIT_FINDING;
      }),
    );
}

async function streamsAt(
  store: Awaited<ReturnType<CliContext['store']>>,
  positions: number[],
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const position of [...new Set(positions)].sort((a, b) => a - b).slice(0, 1000)) {
    const [event] = await store.readAll({ after: position - 1, maxCount: 1 });
    if (event?.position === position) out.set(position, event.streamName);
  }
  return out;
}

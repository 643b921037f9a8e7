/**
 * The streaming audit in a process of its own, so its peak RSS is the audit's alone:
 * argv: <connection string> <event store schema>. Prints one JSON line. It runs the way
 * `pnpm mm audit` runs it: again, in a child process under the CLI's default heap cap
 * (AUDIT_HEAP_MB, `--max-memory-mb`); the figures are that process's (BENCH_AUDIT_HEAP_MB=0: no cap).
 */
import { AUDIT_HEAP_MB, auditEventStore, runUnderHeapCap } from '@mm/audit';
import { createPostgresEventStore } from '@mm/event-store/postgres';

const capped = await runUnderHeapCap(Number(process.env.BENCH_AUDIT_HEAP_MB ?? AUDIT_HEAP_MB));
if (capped) {
  if (capped.outOfMemory) process.stderr.write('[bench:replay] audit: out of memory under the cap\n');
  process.exit(capped.code);
}

const [connectionString, schema] = process.argv.slice(2);
const store = await createPostgresEventStore({
  connectionString: connectionString!,
  schema: schema!,
  poolSize: 2,
  migrate: false,
});
let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 50);
const started = performance.now();
const result = await auditEventStore(store, {
  settled: true,
  onProgress: ({ events }) => {
    sample();
    if (events % 100_000 < 500) process.stderr.write(`[bench:replay] audit: ${events} events\n`);
  },
});
const ms = performance.now() - started;
clearInterval(timer);
sample();
await store.close();
process.stdout.write(
  `${JSON.stringify({
    events: result.stats.events,
    ms: Math.round(ms),
    ok: result.ok,
    violations: result.violations.length,
    peakRssMb: Math.round(Math.max(peak, process.resourceUsage().maxRSS * 1024) / 1e6),
    footprint: result.footprint,
    heapCapMb: Number(process.env.MM_HEAP_CAP_MB ?? 0),
  })}\n`,
);

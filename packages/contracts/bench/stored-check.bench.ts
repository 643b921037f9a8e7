/**
 * `pnpm bench:contracts` — the contract check of events read back from the log
 * (`isStoredEventData`: each schema compiled into one generated function) against zod's own
 * `safeParse` of the same data, in the same run.
 *
 * The data: every current-version fixture of `fixtures/`, each parsed afresh from its JSON
 * BENCH_COPIES times (default 20,000) so that every check meets objects of its own, as a replay
 * does. Each check runs over all of them five times; the median run counts. A table, then one
 * JSON line last.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { EventEnvelope, type EventType, eventSchemas, isStoredEventData } from '../src/index.js';

const copies = Number(process.env.BENCH_COPIES ?? 20_000);
const dir = new URL('../fixtures/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => EventEnvelope.parse(JSON.parse(readFileSync(new URL(name, dir), 'utf8'))))
  .filter((e) => eventSchemas[e.type as EventType].schemaVersion === e.schema_version);
const events: { type: EventType; version: number; data: unknown }[] = [];
for (let i = 0; i < copies; i++)
  for (const f of fixtures)
    events.push({ type: f.type as EventType, version: f.schema_version, data: JSON.parse(JSON.stringify(f.data)) });

/** Median ns per event of five runs of `check` over every event; throws if one is refused. */
function measure(check: (type: EventType, version: number, data: unknown) => boolean): number {
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    for (const e of events) if (!check(e.type, e.version, e.data)) throw new Error(`${e.type} refused`);
    runs.push(((performance.now() - t) * 1e6) / events.length);
  }
  runs.sort((a, b) => a - b);
  return runs[2]!;
}

const zodNs = measure((type, _version, data) => eventSchemas[type].schema.safeParse(data).success);
const compiledNs = measure(isStoredEventData);
const result = {
  events: events.length,
  event_types: fixtures.length,
  zod_ns_per_event: Math.round(zodNs),
  compiled_ns_per_event: Math.round(compiledNs),
  compiled_vs_zod: Math.round((zodNs / compiledNs) * 10) / 10,
};
const rows: [string, string][] = [
  ['events checked per run', `${result.events} (${result.event_types} event types, ${copies} copies each)`],
  ['zod safeParse', `${result.zod_ns_per_event} ns per event`],
  ['compiled check', `${result.compiled_ns_per_event} ns per event (${result.compiled_vs_zod} × as fast as zod)`],
];
for (const [what, figure] of rows) process.stdout.write(`${what.padEnd(24)} ${figure}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);

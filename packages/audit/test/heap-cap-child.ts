/**
 * Fixture of heap-cap.unit.spec.ts: runs itself under a heap cap of argv[2] MB, then (as the
 * capped child) prints the cap and V8's heap limit, and keeps argv[3] MB alive.
 */
import { getHeapStatistics } from 'node:v8';
import { heapCapOfThisProcess, runUnderHeapCap } from '../src/heap-cap.js';

const run = await runUnderHeapCap(Number(process.argv[2]));
if (run) {
  process.stdout.write(`${JSON.stringify({ parent: run })}\n`);
  process.exit(run.code);
}
const kept: string[][] = [];
for (let mb = 0; mb < Number(process.argv[3]); mb++)
  kept.push(Array.from({ length: 16_384 }, (_, i) => `${mb}:${i}:`.padEnd(40, 'x')));
process.stdout.write(
  `${JSON.stringify({ cap: heapCapOfThisProcess(), limitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20), kept: kept.length })}\n`,
);

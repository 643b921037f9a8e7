import { readFileSync } from 'node:fs';
import { StreamingAuditor } from '@mm/audit';
import { EventEnvelope, type PairingPassCompletedData, parseEvent } from '@mm/contracts';
import type { RecordedEvent } from '@mm/event-store';
import { ALGORITHM_VERSION, edgeWeight, weightScales } from '@mm/pairing';
import { applyToReadModels, readModelTables, toProjectedEvent } from '@mm/projections';
import { describe, expect, it } from 'vitest';
import { bestWith, compatibility, recordedSummary, rerunPass } from './pass-rerun.js';

const envelope = EventEnvelope.parse(
  JSON.parse(
    readFileSync(new URL('../../../contracts/fixtures/PairingPassCompleted.v1.json', import.meta.url), 'utf8'),
  ),
);
const pass: PairingPassCompletedData = parseEvent('PairingPassCompleted', 1, envelope.data).data;
const recorded: RecordedEvent = {
  id: envelope.id,
  streamName: envelope.stream,
  revision: 0,
  position: envelope.position,
  type: envelope.type,
  schemaVersion: envelope.schema_version,
  data: envelope.data as RecordedEvent['data'],
  metadata: envelope.metadata as RecordedEvent['metadata'],
  recordedAt: new Date(envelope.recorded_at),
};

describe('re-running a recorded pairing pass', () => {
  it('the stored fixture re-runs to the same pairs, weights, windows and certificate', () => {
    const rerun = rerunPass(pass);
    expect(rerun.differences).toEqual([]);
    expect(rerun.identical).toBe(true);
  });

  it('an edited input is a difference: the pair is gone, the window no longer follows from the settings', () => {
    // (recorded by the current version: the identity path; older versions are below)
    const edited = {
      ...pass,
      algorithmVersion: ALGORITHM_VERSION,
      entries: pass.entries.map((e) => (e.userId === 'bob' ? { ...e, rating: 1700 } : e)),
    };
    const rerun = rerunPass(edited);
    expect(rerun.identical).toBe(false);
    expect(rerun.differences).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/window recorded \[1448\.5, 1600\], the settings give \[1600, 1600\]/),
        expect.stringMatching(/was recorded; the re-run does not make it/),
      ]),
    );
    expect(
      rerunPass({ ...pass, algorithmVersion: ALGORITHM_VERSION, totalWeight: pass.totalWeight + 1 }).differences,
    ).toEqual([`total weight recorded ${pass.totalWeight + 1}, re-run ${pass.totalWeight}`]);
  });

  it('says why another entry was not an opponent: a window, or a better pairing elsewhere', () => {
    const [alice, bob, carol] = pass.entries as [
      (typeof pass.entries)[0],
      (typeof pass.entries)[0],
      (typeof pass.entries)[0],
    ];
    expect(compatibility(pass, alice, carol)).toEqual({
      ok: false,
      reason: "carol (1890) is outside alice's window [1412, 1612]",
    });
    expect(compatibility(pass, alice, bob)).toEqual({ ok: true });
    // pairing alice with bob is what the pass did: the same summary as the record
    expect(bestWith(pass, alice, bob)).toEqual(recordedSummary(pass));
  });
});

describe('a pass recorded by another version of the pairing', () => {
  // Four entries alike (alice's rating, wait and window): the three perfect matchings weigh the same.
  const alice = pass.entries[0]!;
  const four = [1, 2, 3, 4].map((i) => ({
    ...alice,
    entryId: `00000000-0000-4000-8000-00000000000${i}`,
    userId: `p${i}`,
  }));
  const w = edgeWeight(weightScales(4, pass.config), alice.waitMs, alice.waitMs, 0);
  const pair = (i: number, j: number) => ({
    a: four[i]!.entryId,
    b: four[j]!.entryId,
    ratingGap: 0,
    weight: w,
    outcome: 'matched' as const,
    matchId: `00000000-0000-4000-9000-0000000000${i}${j}`,
  });
  const older = (pairs: ReturnType<typeof pair>[], exact: boolean, totalWeight = pairs.length * w) => ({
    ...pass,
    algorithmVersion: 'mwm-0',
    entries: four,
    pairs,
    totalWeight,
    certificate: { exact, upperBound: exact ? totalWeight : totalWeight + w, edges: 6 },
  });
  const matchings = [
    [pair(0, 1), pair(2, 3)],
    [pair(0, 2), pair(1, 3)],
    [pair(0, 3), pair(1, 2)],
  ];
  const key = (p: { a: string; b: string }) => [p.a, p.b].sort().join(' ');
  const chosen = rerunPass(older(matchings[0]!, true)).result.pairs.map((p) => key({ a: p.a.entryId, b: p.b.entryId }));
  const another = matchings.find((m) => !m.every((p) => chosen.includes(key(p))))!;

  it('another matching of the same weight is a note: the record is consistent', () => {
    const rerun = rerunPass(older(another, true));
    expect(rerun.differences).toEqual([]);
    expect(rerun.identical).toBe(true);
    expect(rerun.notes.join('\n')).toMatch(/recorded by pairing mwm-0, re-run with mwm-/);
    expect(rerun.notes.join('\n')).toMatch(/other pairs of the same total weight/);
  });

  it('the same record by the current version would be a difference', () => {
    const rerun = rerunPass({ ...older(another, true), algorithmVersion: ALGORITHM_VERSION });
    expect(rerun.identical).toBe(false);
    expect(rerun.differences.join('\n')).toMatch(/was recorded; the re-run does not make it/);
  });

  it('a recorded total above the optimum, or below it while certified optimal, is a difference', () => {
    expect(rerunPass(older(another, true, 2 * w + 1)).differences.join('\n')).toMatch(
      /is more than the optimum .*: no matching of this input weighs that much/,
    );
    expect(rerunPass(older([pair(0, 1)], true)).differences.join('\n')).toMatch(
      /recorded as optimal with total weight \d+, but the re-run finds \d+/,
    );
  });

  it('a lighter matching that was not certified optimal is a note', () => {
    const rerun = rerunPass(older([pair(0, 1)], false));
    expect(rerun.differences).toEqual([]);
    expect(rerun.notes.join('\n')).toMatch(/not certified optimal\), re-run \d+/);
  });

  it('a recorded pair that the settings do not allow is a difference', () => {
    const blocked = older(another, true);
    const [x, y] = [another[0]!.a, another[0]!.b];
    blocked.entries = four.map((e) =>
      e.entryId === x ? { ...e, blockedUserIds: [four.find((f) => f.entryId === y)!.userId] } : e,
    );
    expect(rerunPass(blocked).differences.join('\n')).toMatch(
      /was recorded but is not allowed: they played each other/,
    );
  });
});

describe('PairingPassCompleted in the audit and the read models', () => {
  it('the streaming audit reads it as a known event and finds nothing wrong', () => {
    const auditor = new StreamingAuditor();
    auditor.push(recorded);
    const result = auditor.finish();
    expect(result.stats.unknownEventTypes).toBe(0);
    expect(result.stats.invalidEvents).toBe(0);
    expect(result.violations).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('the read-model projection parses it and writes nothing', async () => {
    const projected = toProjectedEvent(recorded);
    expect(projected?.type).toBe('PairingPassCompleted');
    const statements: string[] = [];
    await applyToReadModels({ query: async (text) => statements.push(text) }, readModelTables('rm'), projected!);
    expect(statements).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { StreamingAuditor } from '@mm/audit';
import { EventEnvelope, type PairingPassCompletedData, parseEvent } from '@mm/contracts';
import type { RecordedEvent } from '@mm/event-store';
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
    const edited = {
      ...pass,
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
    expect(rerunPass({ ...pass, totalWeight: pass.totalWeight + 1 }).differences).toEqual([
      `total weight recorded ${pass.totalWeight + 1}, re-run ${pass.totalWeight}`,
    ]);
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

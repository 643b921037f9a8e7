import { type MatchCreatedData, matchStream, parseEvent } from '@mm/contracts';
import type { EventStore, RecordedEvent } from '@mm/event-store';
import { describeBound, type LogBound } from '../log-bound.js';
import { type ReplayProgress, scanLog } from '../log-scan.js';
import { matchAgainstPass } from './explain-match.js';
import { rerunPass } from './pass-rerun.js';

export interface DecisionMismatch {
  passId: string;
  position: number;
  stream: string;
  tenantId: string;
  pool: string;
  decidedAt: string;
  differences: string[];
}

export interface DecisionsAudit {
  /** Pass records re-run. */
  passes: number;
  /** Matches compared with their pass's record. */
  matches: number;
  mismatches: DecisionMismatch[];
  /** Matches of the range that name a pass whose record is not in the range (not a mismatch; at most 100 listed). */
  unrecorded: string[];
  unrecordedCount: number;
  lastPosition: number;
  ms: number;
}

export interface DecisionsAuditOptions {
  /** Re-run passes from here on. */
  from?: LogBound;
  to?: LogBound;
  onProgress?: (progress: ReplayProgress) => void;
}

const isBefore = (event: RecordedEvent, from: LogBound | undefined) =>
  from !== undefined &&
  ('position' in from ? event.position < from.position : event.recordedAt.getTime() < from.time.getTime());

/**
 * Re-runs every recorded pairing pass (`PairingPassCompleted`) in the range and compares it with
 * its record and with the `MatchCreated` of every match it lists. Reads only those two event
 * types, page by page; keeps only the matches whose pass has not been read yet (a pass is
 * recorded right after its matches).
 */
export async function auditDecisions(store: EventStore, options: DecisionsAuditOptions = {}): Promise<DecisionsAudit> {
  const started = performance.now();
  const { from, to } = options;
  const audit: DecisionsAudit = {
    passes: 0,
    matches: 0,
    mismatches: [],
    unrecorded: [],
    unrecordedCount: 0,
    lastPosition: -1,
    ms: 0,
  };
  /** Matches decided by a recorded pass, waiting for its record: match id → data. */
  const waiting = new Map<string, MatchCreatedData>();
  const matchOf = async (matchId: string): Promise<MatchCreatedData | undefined> => {
    const held = waiting.get(matchId);
    if (held) {
      waiting.delete(matchId);
      return held;
    }
    const [event] = await store.readStream(matchStream(matchId), { maxCount: 1 });
    return event?.type === 'MatchCreated'
      ? parseEvent('MatchCreated', event.schemaVersion, event.data).data
      : undefined;
  };
  const scanned = await scanLog(
    store,
    async (events) => {
      for (const event of events) {
        if (isBefore(event, from)) continue;
        if (event.type === 'MatchCreated') {
          const { data } = parseEvent('MatchCreated', event.schemaVersion, event.data);
          if (data.passId) waiting.set(data.matchId, data);
          continue;
        }
        if (event.type !== 'PairingPassCompleted') continue;
        const { data: pass } = parseEvent('PairingPassCompleted', event.schemaVersion, event.data);
        audit.passes++;
        const differences = [...rerunPass(pass).differences];
        for (const pair of pass.pairs) {
          if (!pair.matchId) continue;
          const match = await matchOf(pair.matchId);
          if (!match) {
            differences.push(`match ${pair.matchId} of pair ${pair.a} + ${pair.b} is not in the log`);
            continue;
          }
          audit.matches++;
          if (match.passId !== pass.passId)
            differences.push(`match ${pair.matchId} names pass ${match.passId ?? '(none)'}, not this one`);
          for (const d of matchAgainstPass(match, pass)) differences.push(`match ${pair.matchId}: ${d}`);
        }
        if (differences.length > 0)
          audit.mismatches.push({
            passId: pass.passId,
            position: event.position,
            stream: event.streamName,
            tenantId: event.metadata.tenantId,
            pool: pass.pool.key,
            decidedAt: pass.decidedAt,
            differences,
          });
      }
    },
    {
      filter: { eventTypes: ['MatchCreated', 'PairingPassCompleted'] },
      ...(from && 'position' in from ? { after: from.position - 1 } : {}),
      ...(to ? { to } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  audit.lastPosition = scanned.lastPosition;
  audit.unrecordedCount = waiting.size;
  audit.unrecorded = [...waiting.keys()].slice(0, 100);
  audit.ms = Math.round(performance.now() - started);
  return audit;
}

/** The decisions audit in words; `range` describes --from/--to. */
export function formatDecisionsAudit(audit: DecisionsAudit, range: { from?: LogBound; to?: LogBound } = {}): string {
  const span = [range.from ? `from ${describeBound(range.from)}` : '', range.to ? `to ${describeBound(range.to)}` : '']
    .filter(Boolean)
    .join(' ');
  const lines = [
    `decisions: ${audit.passes} recorded pairing pass(es) re-run${span ? ` (${span})` : ''}, ${audit.matches} match(es) compared with their pass — ${audit.ms} ms`,
  ];
  for (const m of audit.mismatches) {
    lines.push(
      `MISMATCH pass ${m.passId} (${m.tenantId}, pool ${m.pool}, decided ${m.decidedAt}, position ${m.position}):`,
    );
    for (const d of m.differences) lines.push(`  ${d}`);
  }
  if (audit.unrecordedCount > 0)
    lines.push(
      `note: ${audit.unrecordedCount} match(es) name a pass whose record is not in the range (e.g. ${audit.unrecorded.slice(0, 3).join(', ')}); \`mm explain match\` says why`,
    );
  lines.push(
    audit.mismatches.length === 0
      ? 'RESULT: every recorded pass re-runs to the same pairs'
      : `RESULT: ${audit.mismatches.length} pass(es) do not re-run to their record`,
  );
  return lines.join('\n');
}

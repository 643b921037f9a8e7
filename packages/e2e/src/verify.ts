import type { AuditResult, WindowPolicy } from '@mm/audit';
import { auditLog, formatReport } from '@mm/audit';
import type { RecordedEvent } from '@mm/event-store';

/** What a queue entry became, according to the log alone. */
export interface EntryOutcome {
  tenantId: string;
  userId: string;
  queueEntryId: string;
  matchId: string | null;
  gameId: string | null;
  colour: 'white' | 'black' | null;
  /** Cancelled by the player (reason `user`). */
  cancelled: boolean;
}

/** Outcome of every queue entry in the log, by entry id. */
export function entryOutcomes(events: readonly RecordedEvent[]): Map<string, EntryOutcome> {
  const out = new Map<string, EntryOutcome>();
  for (const e of events) {
    // biome-ignore lint/suspicious/noExplicitAny: raw event data
    const d: any = e.data;
    const tenantId = String(e.metadata.tenantId);
    if (e.type === 'QueueJoined')
      out.set(d.queueEntryId, {
        tenantId,
        userId: d.userId,
        queueEntryId: d.queueEntryId,
        matchId: null,
        gameId: null,
        colour: null,
        cancelled: false,
      });
    else if (e.type === 'QueueCancelled') {
      // Only the player's own cancel counts here; a worker ending the entry of a player who is
      // busy in a game (`active_game`, after live-game-api refused a match) is not a cancel.
      const entry = out.get(d.queueEntryId);
      if (entry && d.reason === 'user') entry.cancelled = true;
    } else if (e.type === 'QueueEntryGameStarted' && d.queueEntryId) {
      const entry = out.get(d.queueEntryId);
      if (entry) Object.assign(entry, { matchId: d.matchId, gameId: d.gameId, colour: d.colour });
    }
  }
  return out;
}

/** Audits a settled log; on violations returns the readable report as the error message. */
export function auditSettled(events: RecordedEvent[], windowPolicy: WindowPolicy): AuditResult & { report: string } {
  const result = auditLog(events, { settled: true, windowPolicy });
  return { ...result, report: formatReport(result, { settled: true }) };
}

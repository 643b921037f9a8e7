import { auditLog, compatibleSearchingPairs, type WindowPolicy } from '@mm/audit';
import type { RecordedEvent } from '@mm/event-store';
import { sleep } from './pacing.js';

export interface SettleState {
  events: number;
  openMatches: number;
  claimedEntries: number;
  playersInLiveMatch: number;
  compatiblePairs: number;
}

export interface SettleResult {
  settled: boolean;
  waitedMs: number;
  last: SettleState;
  events: RecordedEvent[];
}

/**
 * Waits (bounded) until the system is idle: no match open, no entry claimed, nobody in a
 * live match, no two searching entries that would accept each other now, and the log has
 * stopped growing across two looks. Reads the log directly (not the read models).
 */
export async function waitUntilSettled(
  readAll: () => Promise<RecordedEvent[]>,
  policy: WindowPolicy,
  options: { timeoutMs: number; pollMs?: number; onProgress?: (state: SettleState) => void },
): Promise<SettleResult> {
  const started = Date.now();
  let previous = -1;
  let last: SettleState = { events: 0, openMatches: 0, claimedEntries: 0, playersInLiveMatch: 0, compatiblePairs: 0 };
  let events: RecordedEvent[] = [];
  while (Date.now() - started < options.timeoutMs) {
    events = await readAll();
    const { stats } = auditLog(events);
    last = {
      events: events.length,
      openMatches: stats.openMatches,
      claimedEntries: stats.claimedAtEnd,
      playersInLiveMatch: stats.playersInLiveMatchAtEnd,
      compatiblePairs: compatibleSearchingPairs(events, policy, Date.now()).length,
    };
    options.onProgress?.(last);
    const idle =
      last.openMatches === 0 &&
      last.claimedEntries === 0 &&
      last.playersInLiveMatch === 0 &&
      last.compatiblePairs === 0;
    if (idle && events.length === previous) return { settled: true, waitedMs: Date.now() - started, last, events };
    previous = idle ? events.length : -1;
    await sleep(options.pollMs ?? 1000);
  }
  return { settled: false, waitedMs: Date.now() - started, last, events };
}

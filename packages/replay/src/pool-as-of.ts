import { poolKey } from '@mm/contracts';
import type { EventStore } from '@mm/event-store';
import { ReplayInputError } from './errors.js';
import { type ReplayProgress, scanLog } from './log-scan.js';

/** A searching entry of a pool at a past time. */
export interface SearchingEntry {
  tenantId: string;
  userId: string;
  queueEntryId: string;
  rating: number;
  ratingRange: { min?: number; max?: number } | null;
  enqueuedAt: string;
  /** Seconds it had been waiting at the time asked for. */
  waitedSeconds: number;
  /** Log position of the event that made it searching (its join, or the release that put it back). */
  since: number;
}

export interface PoolAsOf {
  time: string;
  pool: string;
  tenantId: string | null;
  /** Position of the last event at or before `time` (-1: none). */
  position: number;
  entries: SearchingEntry[];
}

export interface PoolAsOfOptions {
  store: EventStore;
  time: Date;
  timeControl: string;
  mode: string;
  /** Only this tenant. @defaultValue every tenant */
  tenantId?: string;
  onProgress?: (progress: ReplayProgress) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: raw event data
type Raw = any;

/**
 * The pool's searching entries as they were at `time`, folded from the player streams of the
 * log up to the last event recorded at or before it (only entries of that pool are kept).
 */
export async function poolAsOf(options: PoolAsOfOptions): Promise<PoolAsOf> {
  const { store, time } = options;
  if (options.mode !== 'rated' && options.mode !== 'casual')
    throw new ReplayInputError(
      `mode ${JSON.stringify(options.mode)} is not rated or casual`,
      'e.g. mm as-of <time> pool 3+0 rated',
    );
  if (!/^\d+\+\d+$/.test(options.timeControl))
    throw new ReplayInputError(
      `time control ${JSON.stringify(options.timeControl)} is not like 3+0`,
      'e.g. mm as-of <time> pool 3+0 rated',
    );
  const key = poolKey(options.timeControl, options.mode);
  const entries = new Map<string, { entry: SearchingEntry; searching: boolean }>();
  const heldBy = new Map<string, string>(); // tenant+user+match → entry key
  const k = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;
  const scan = await scanLog(
    store,
    (events) => {
      for (const event of events) {
        const tenantId = String(event.metadata?.tenantId ?? '');
        if (options.tenantId !== undefined && tenantId !== options.tenantId) continue;
        const d: Raw = event.data ?? {};
        switch (event.type) {
          case 'QueueJoined':
            if (d.pool?.key === key)
              entries.set(k(tenantId, d.queueEntryId), {
                searching: true,
                entry: {
                  tenantId,
                  userId: d.userId,
                  queueEntryId: d.queueEntryId,
                  rating: d.rating,
                  ratingRange: d.ratingRange ?? null,
                  enqueuedAt: d.enqueuedAt,
                  waitedSeconds: 0,
                  since: event.position,
                },
              });
            break;
          case 'QueueCancelled':
          case 'QueueTimedOut':
          case 'QueueEntryGameStarted':
            if (d.queueEntryId) entries.delete(k(tenantId, d.queueEntryId));
            break;
          case 'QueueEntryMatched': {
            const e = entries.get(k(tenantId, d.queueEntryId));
            if (e) e.searching = false;
            break;
          }
          case 'QueueEntryReleased': {
            const e = entries.get(k(tenantId, d.queueEntryId));
            if (e) {
              e.searching = true;
              e.entry.since = event.position;
            }
            break;
          }
          case 'ChallengeMatchClaimed': {
            const e = d.heldQueueEntryId ? entries.get(k(tenantId, d.heldQueueEntryId)) : undefined;
            if (e) {
              e.searching = false;
              heldBy.set(k(tenantId, `${d.userId}\u0000${d.matchId}`), k(tenantId, d.heldQueueEntryId));
            }
            break;
          }
          case 'ChallengeMatchReleased': {
            const hk = k(tenantId, `${d.userId}\u0000${d.matchId}`);
            const e = entries.get(heldBy.get(hk) ?? '');
            if (e) e.searching = true;
            heldBy.delete(hk);
            break;
          }
        }
      }
    },
    {
      to: { time },
      filter: { categories: ['player'] },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  const searching = [...entries.values()]
    .filter((e) => e.searching)
    .map((e) => ({
      ...e.entry,
      waitedSeconds: Math.max(0, Math.round((time.getTime() - Date.parse(e.entry.enqueuedAt)) / 1000)),
    }))
    .sort((a, b) => Date.parse(a.enqueuedAt) - Date.parse(b.enqueuedAt));
  return {
    time: time.toISOString(),
    pool: key,
    tenantId: options.tenantId ?? null,
    position: scan.lastPosition,
    entries: searching,
  };
}

export function formatPoolAsOf(result: PoolAsOf): string {
  const lines = [
    `pool ${result.pool}${result.tenantId ? ` (tenant ${result.tenantId})` : ''} as of ${result.time} (log position ${result.position}): ${result.entries.length} searching`,
  ];
  for (const e of result.entries)
    lines.push(
      `  ${e.tenantId.padEnd(12)} ${e.userId.padEnd(16)} rating ${String(e.rating).padStart(6)}  waiting ${String(e.waitedSeconds).padStart(5)} s  entry ${e.queueEntryId}`,
    );
  return lines.join('\n');
}

import type { RecordedEvent } from '@mm/event-store';
import { allowedHalfWidth } from './match-checks.js';
import type { WindowPolicy } from './types.js';

export interface CompatiblePair {
  tenantId: string;
  poolKey: string;
  a: { userId: string; queueEntryId: string; rating: number };
  b: { userId: string; queueEntryId: string; rating: number };
}

interface Searching {
  tenantId: string;
  userId: string;
  queueEntryId: string;
  poolKey: string;
  rating: number;
  ratingRange: { min?: number; max?: number } | null;
  enqueuedAt: number;
  searching: boolean;
}

/**
 * Liveness, not safety: pairs of entries still searching at the end of the log that
 * would accept each other at `now` (each rating inside the other's window). After the
 * system has settled there should be none — "every compatible pair eventually matched".
 * Ignores the rematch cool-down.
 */
export function compatibleSearchingPairs(
  events: readonly RecordedEvent[],
  policy: WindowPolicy,
  now: number,
): CompatiblePair[] {
  const entries = new Map<string, Searching>();
  const held = new Map<string, string>();
  for (const event of events) {
    // biome-ignore lint/suspicious/noExplicitAny: raw event data
    const d: any = event.data;
    const tenantId = String(event.metadata?.tenantId ?? '');
    const k = `${tenantId}\u0000${d?.queueEntryId}`;
    switch (event.type) {
      case 'QueueJoined':
        entries.set(k, {
          tenantId,
          userId: d.userId,
          queueEntryId: d.queueEntryId,
          poolKey: d.pool.key,
          rating: d.rating,
          ratingRange: d.ratingRange ?? null,
          enqueuedAt: Date.parse(d.enqueuedAt),
          searching: true,
        });
        break;
      case 'QueueCancelled':
      case 'QueueTimedOut':
      case 'QueueEntryMatched':
      case 'QueueEntryGameStarted': {
        const entry = entries.get(k);
        if (entry) entry.searching = false;
        break;
      }
      case 'QueueEntryReleased': {
        const entry = entries.get(k);
        if (entry) entry.searching = true;
        break;
      }
      case 'ChallengeMatchClaimed':
        if (d.heldQueueEntryId) {
          const hk = `${tenantId}\u0000${d.heldQueueEntryId}`;
          const entry = entries.get(hk);
          if (entry) entry.searching = false;
          held.set(`${tenantId}\u0000${d.userId}\u0000${d.matchId}`, hk);
        }
        break;
      case 'ChallengeMatchReleased': {
        const hk = held.get(`${tenantId}\u0000${d.userId}\u0000${d.matchId}`);
        const entry = hk ? entries.get(hk) : undefined;
        if (entry) entry.searching = true;
        break;
      }
      default:
        break;
    }
  }
  const byPool = new Map<string, Searching[]>();
  for (const e of entries.values()) {
    if (!e.searching) continue;
    const pk = `${e.tenantId}\u0000${e.poolKey}`;
    byPool.set(pk, [...(byPool.get(pk) ?? []), e]);
  }
  const accepts = (x: Searching, y: Searching) => {
    const w = allowedHalfWidth(now - x.enqueuedAt, policy);
    let low = x.rating - w;
    let high = x.rating + w;
    if (typeof x.ratingRange?.min === 'number') low = Math.max(low, x.ratingRange.min);
    if (typeof x.ratingRange?.max === 'number') high = Math.min(high, x.ratingRange.max);
    return y.rating >= low && y.rating <= high;
  };
  const pairs: CompatiblePair[] = [];
  for (const list of byPool.values())
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (a.userId !== b.userId && accepts(a, b) && accepts(b, a))
          pairs.push({
            tenantId: a.tenantId,
            poolKey: a.poolKey,
            a: { userId: a.userId, queueEntryId: a.queueEntryId, rating: a.rating },
            b: { userId: b.userId, queueEntryId: b.queueEntryId, rating: b.rating },
          });
      }
  return pairs;
}

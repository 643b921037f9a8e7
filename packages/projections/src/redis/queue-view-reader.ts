import type { Redis } from 'ioredis';
import { parsePoolMember, queueViewKeys } from './queue-view-keys.js';

/** A searching entry as the pairing worker needs it. */
export interface QueueViewEntry {
  entryId: string;
  userId: string;
  rating: number;
  enqueuedAt: number;
  ratingRange: { min?: number; max?: number } | null;
  recentOpponents: { userId: string; at: number }[];
  colourHistory: ('white' | 'black')[];
}

interface RecentItem {
  opponentId: string;
  at: string;
  colour: 'white' | 'black';
}

/** Reads the queue views written by the queue-view projection. */
export function createQueueViewReader(redis: Redis, prefix: string) {
  const keys = queueViewKeys(prefix);
  return {
    /** Every pool with searching entries. */
    async activePools(): Promise<{ tenantId: string; poolKey: string }[]> {
      return (await redis.smembers(keys.pools())).map(parsePoolMember);
    },

    /** Bumped on every change of the pool; compare before and after a pass. */
    async generation(tenantId: string, poolKey: string): Promise<number> {
      return Number((await redis.get(keys.generation(tenantId, poolKey))) ?? 0);
    },

    /** 1-based place of the entry in its pool by enqueue time, or null when it is not searching. */
    async position(tenantId: string, poolKey: string, entryId: string): Promise<number | null> {
      const rank = await redis.zrank(keys.byTime(tenantId, poolKey), entryId);
      return rank === null ? null : rank + 1;
    },

    async size(tenantId: string, poolKey: string): Promise<number> {
      return redis.zcard(keys.byTime(tenantId, poolKey));
    },

    /** The pool's searching entries, oldest first, with each user's recent opponents and colours. */
    async snapshot(tenantId: string, poolKey: string): Promise<QueueViewEntry[]> {
      const ids = await redis.zrange(keys.byTime(tenantId, poolKey), '0', '-1');
      if (ids.length === 0) return [];
      const read = redis.pipeline();
      for (const id of ids) read.hmget(keys.entry(tenantId, id), 'user', 'enq', 'rating', 'range', 'status');
      const rows = ((await read.exec()) ?? []).map(([, v]) => v as (string | null)[]);
      const users = [...new Set(rows.map((r) => r[0]).filter((u): u is string => typeof u === 'string'))];
      const recentRead = redis.pipeline();
      for (const u of users) recentRead.lrange(keys.recent(tenantId, u), 0, -1);
      const recent = new Map<string, RecentItem[]>();
      ((await recentRead.exec()) ?? []).forEach(([, v], i) => {
        recent.set(
          users[i]!,
          ((v as string[]) ?? []).map((s) => JSON.parse(s) as RecentItem),
        );
      });
      const entries: QueueViewEntry[] = [];
      ids.forEach((entryId, i) => {
        const [user, enq, rating, range, status] = rows[i] ?? [];
        if (!user || status !== 'SEARCHING') return; // removed between the two reads
        const history = recent.get(user) ?? [];
        entries.push({
          entryId,
          userId: user,
          rating: Number(rating),
          enqueuedAt: Number(enq),
          ratingRange: range ? (JSON.parse(range) as QueueViewEntry['ratingRange']) : null,
          recentOpponents: history.map((h) => ({ userId: h.opponentId, at: Date.parse(h.at) })),
          // oldest first, most recent last
          colourHistory: history.map((h) => h.colour).reverse(),
        });
      });
      return entries;
    },
  };
}

export type QueueViewReader = ReturnType<typeof createQueueViewReader>;

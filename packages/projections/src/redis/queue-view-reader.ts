import { commandBatch, parsePoolMember, type RedisClient, redisKeys, withScripts } from '@mm/redis';
import type { Redis } from 'ioredis';
import { parseRecentItem } from './queue-view-ops.js';

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

/**
 * How a snapshot is read. `history: false` leaves out the players' recent games
 * (`recentOpponents` and `colourHistory` empty): they are keys of the players' hash tags, one
 * more round trip; {@link QueueViewReader.withHistory} adds them when a pass pairs.
 */
export interface SnapshotOptions {
  /** @defaultValue true */
  history?: boolean;
}

/** Reads a snapshot without the players' recent games. */
export const NO_HISTORY: SnapshotOptions = { history: false };

/** What {@link createQueueViewReader}'s `lockAndSnapshot` read. */
export type PoolRead = { locked: false } | { locked: true; generation: number; entries: QueueViewEntry[] };

/** Reads the queue views written by the queue-view projection. */
export function createQueueViewReader(redis: RedisClient, prefix: string) {
  const keys = redisKeys(prefix);
  withScripts(redis); // poolSnapshot (packages/redis/lua)
  const r = redis as unknown as Redis & { mmPoolSnapshot(...args: (string | number)[]): Promise<unknown[]> };

  /**
   * The recent games of `users` (keys of the users' hash tags, so not read by the pool's
   * script): one LRANGE each, sent together — one more round trip after the snapshot.
   */
  const recentOf = async (tenantId: string, users: readonly string[]): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    if (users.length === 0) return out;
    const read = commandBatch(redis);
    for (const user of users) read.lrange(keys.recent(tenantId, user), 0, -1);
    const replies = (await read.exec()) ?? [];
    users.forEach((user, i) => {
      const [error, list] = replies[i] ?? [];
      if (error) throw error;
      out.set(user, (list as string[] | undefined) ?? []);
    });
    return out;
  };

  /** `entries` with their players' recent opponents and colours (newest last). */
  const withHistory = async <E extends QueueViewEntry>(tenantId: string, entries: readonly E[]): Promise<E[]> => {
    const recent = await recentOf(tenantId, [...new Set(entries.map((e) => e.userId))]);
    return entries.map((entry) => {
      // The list's head is `#<position>` (pushRecent-1.lua), not a game.
      const history = (recent.get(entry.userId) ?? []).filter((item) => !item.startsWith('#')).map(parseRecentItem);
      return {
        ...entry,
        recentOpponents: history.map((h) => ({ userId: h.opponentId, at: h.at })),
        // oldest first, most recent last
        colourHistory: history.map((h) => h.colour).reverse(),
      };
    });
  };

  const readPool = async (
    tenantId: string,
    poolKey: string,
    lock: { key: string; token: string; ttlMs: number } | null,
    options: SnapshotOptions = {},
  ): Promise<PoolRead> => {
    const reply = await r.mmPoolSnapshot(
      lock?.key ?? keys.generation(tenantId, poolKey), // unused without a lock (still a declared key)
      keys.generation(tenantId, poolKey),
      keys.byTime(tenantId, poolKey),
      lock?.token ?? '',
      lock?.ttlMs ?? 0,
      keys.entryPrefix(tenantId, poolKey),
    );
    if (reply[0] !== 1) return { locked: false };
    const rows = reply.slice(2) as [string, string, string, string, string | null][];
    const entries = rows.map(
      ([entryId, userId, enq, rating, range]): QueueViewEntry => ({
        entryId,
        userId,
        rating: Number(rating),
        enqueuedAt: Number(enq),
        ratingRange: range ? (JSON.parse(range) as QueueViewEntry['ratingRange']) : null,
        recentOpponents: [],
        colourHistory: [],
      }),
    );
    return {
      locked: true,
      generation: Number(reply[1]),
      entries: options.history === false ? entries : await withHistory(tenantId, entries),
    };
  };

  const readUnlocked = async (
    tenantId: string,
    poolKey: string,
    options: SnapshotOptions = {},
  ): Promise<{ generation: number; entries: QueueViewEntry[] }> => {
    const read = await readPool(tenantId, poolKey, null, options);
    if (!read.locked) throw new Error('unreachable: a read without a lock always answers');
    return { generation: read.generation, entries: read.entries };
  };

  return {
    /** Every pool with searching entries. */
    async activePools(): Promise<{ tenantId: string; poolKey: string }[]> {
      return (await redis.smembers(keys.pools())).map(parsePoolMember);
    },

    /**
     * Size and oldest enqueue time (ms) of each pool, in one round trip; oldest is null for
     * an empty pool.
     */
    async poolStats(
      pools: readonly { tenantId: string; poolKey: string }[],
    ): Promise<{ tenantId: string; poolKey: string; size: number; oldestEnqueuedAt: number | null }[]> {
      if (pools.length === 0) return [];
      const read = commandBatch(redis);
      for (const { tenantId, poolKey } of pools) {
        read.zcard(keys.byTime(tenantId, poolKey));
        read.zrange(keys.byTime(tenantId, poolKey), '0', '0', 'WITHSCORES');
      }
      const replies = (await read.exec()) ?? [];
      return pools.map((pool, i) => {
        const [sizeError, size] = replies[2 * i] ?? [];
        const [oldestError, oldest] = replies[2 * i + 1] ?? [];
        if (sizeError) throw sizeError;
        if (oldestError) throw oldestError;
        const first = oldest as string[];
        return { ...pool, size: Number(size), oldestEnqueuedAt: first.length === 2 ? Number(first[1]) : null };
      });
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
    async snapshot(tenantId: string, poolKey: string, options?: SnapshotOptions): Promise<QueueViewEntry[]> {
      return (await readUnlocked(tenantId, poolKey, options)).entries;
    },

    /** `entries` (of a snapshot read without them) with their players' recent opponents and colours. */
    withHistory,

    /** The snapshot with the pool's generation, read together (one round trip). */
    read: readUnlocked,

    /**
     * Takes the pool's pass lock (SET NX PX with `lock.token`) and, if it got it, reads the
     * pool's generation and snapshot — all in one round trip. `locked: false` means another
     * pass holds the pool (nothing was read).
     */
    lockAndSnapshot(
      tenantId: string,
      poolKey: string,
      lock: { key: string; token: string; ttlMs: number },
      options?: SnapshotOptions,
    ): Promise<PoolRead> {
      return readPool(tenantId, poolKey, lock, options);
    },
  };
}

export type QueueViewReader = ReturnType<typeof createQueueViewReader>;

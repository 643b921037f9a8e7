import { commandBatch, poolMember, type RedisClient, type RedisKeys } from '@mm/redis';
import type { ChainableCommander } from 'ioredis';
import type { ProjectedEvent } from '../postgres/read-model-handlers.js';
import {
  ENDED_TTL_SECONDS,
  entryOp,
  joinFields,
  type Op,
  RECENT_KEEP,
  RECENT_TTL_SECONDS,
  recentItems,
  UNHOLD,
} from './queue-view-ops.js';

/*
 * The fast rebuild of the queue views from an empty Redis: the log is folded in memory into the
 * final content of every view key, exactly as the per-event path (queue-view-projection.ts and
 * the scripts applyEntry-4 and pushRecent-1) would leave it after applying the same events one by
 * one, then the keys are written with plain commands in large pipelines. Memory grows with the
 * number of distinct entries, pools, held keys and users in the log (a few hundred bytes each).
 */

/** An entry's hash (`{p}:{pool:…}:e:<entry>`) as the apply script leaves it, and its pool index. */
interface EntryState {
  tenantId: string;
  entryId: string;
  pos: number;
  status: string;
  user: string;
  pool: string;
  enq: string;
  rating: string;
  range: string;
  /** The last TTL command on the hash was EXPIRE (ended for good), not PERSIST. */
  expires: boolean;
  /** The pool index got an EXPIRE after its SET (the per-event path: an op with a TTL, whatever the script did). */
  indexExpires: boolean;
}

interface PoolState {
  tenantId: string;
  poolKey: string;
  /** Member → score as ZADD receives it (the hash's `enq` / `rating` text). */
  byTime: Map<string, string>;
  byRating: Map<string, string>;
  /** INCRs of the pool's generation counter (no key while 0). */
  generation: number;
}

interface RecentState {
  tenantId: string;
  userId: string;
  /** Newest first, at most RECENT_KEEP (LPUSH + LTRIM). */
  items: string[];
  /** Written as the list's head, `#<pos>` (pushRecent-2.lua). */
  pos: number;
}

export interface QueueViewFold {
  /** Applies one event (in log order) as the per-event path would. */
  apply(event: ProjectedEvent): void;
  /** Writes every key of the folded views (into views that hold nothing yet); returns the number of commands. */
  write(redis: RedisClient, commandsPerPipeline?: number): Promise<number>;
  /** Entry pool index key → pool of every entry that may still get events (not ended for good). */
  liveEntries(): Iterable<[string, string]>;
  /** Distinct entries, pools, held keys and users held in memory. */
  size(): { entries: number; pools: number; held: number; users: number };
}

/**
 * A fold of the log into the queue views. `onUnknown` is called for an event naming an entry
 * (or a challenge match's held entry) the views do not have at that point of the log: the
 * per-event path skips it after a rebuild from the log, and so does the fold.
 */
export function createQueueViewFold(
  keys: RedisKeys,
  onUnknown: (what: string, event: ProjectedEvent) => void,
): QueueViewFold {
  /** By the entry's pool index key (tenant and entry id). */
  const entries = new Map<string, EntryState>();
  const pools = new Map<string, PoolState>();
  /** Members of the `pools` set. */
  const poolSet = new Set<string>();
  const held = new Map<string, { value: string; expires: boolean }>();
  const recent = new Map<string, RecentState>();

  const poolState = (tenantId: string, poolKey: string): PoolState => {
    const key = keys.byTime(tenantId, poolKey);
    let p = pools.get(key);
    if (!p) {
      p = { tenantId, poolKey, byTime: new Map(), byRating: new Map(), generation: 0 };
      pools.set(key, p);
    }
    return p;
  };

  /** applyEntry-4.lua, with the pool the projection would pass (the event's for a join, else the index's). */
  const applyEntry = (event: ProjectedEvent, entryId: string, op: Op, join?: ReturnType<typeof joinFields>): void => {
    const tenantId = event.tenantId;
    const key = keys.entryPool(tenantId, entryId);
    let entry = entries.get(key);
    const pool = join ? join.pool : entry?.pool;
    if (pool === undefined) {
      onUnknown('queue entry', event);
      return;
    }
    const position = event.position;
    if (join) {
      if (entry) entry.indexExpires = false;
    } else if (entry && op.ttl > 0) entry.indexExpires = true;
    if (entry && entry.pos >= position) return;
    let what = op.op;
    if (what === 'unhold') what = entry?.status === 'HELD' ? 'add' : 'end';
    if (what === 'end') {
      // Only an existing hash gets here (no join fields: unknown above).
      entry!.pos = position;
      if (op.op === 'end') entry!.expires = true;
      return;
    }
    if (join) {
      if (entry) Object.assign(entry, { pos: position, status: op.status }, join);
      else {
        entry = { tenantId, entryId, pos: position, status: op.status, ...join, expires: false, indexExpires: false };
        entries.set(key, entry);
      }
    } else {
      entry!.pos = position;
      entry!.status = op.status;
    }
    const p = poolState(tenantId, pool);
    if (what === 'add') {
      p.byTime.set(entryId, entry!.enq);
      p.byRating.set(entryId, entry!.rating);
      poolSet.add(poolMember(tenantId, pool));
      entry!.expires = false;
      p.generation++;
    } else if (what === 'remove') {
      const removed = p.byTime.delete(entryId);
      p.byRating.delete(entryId);
      if (p.byTime.size === 0) poolSet.delete(poolMember(tenantId, pool));
      entry!.expires = op.ttl > 0;
      if (removed) p.generation++;
    }
  };

  const expireHeld = (key: string) => {
    const h = held.get(key);
    if (h) h.expires = true;
  };

  return {
    apply(event) {
      const target = entryOp(event);
      if (event.type === 'QueueJoined') {
        applyEntry(event, target!.entryId, target!.op, joinFields(event));
      } else if (event.type === 'ChallengeMatchClaimed') {
        held.set(keys.held(event.tenantId, event.data.matchId, event.data.userId), {
          value: target?.entryId ?? '',
          expires: false, // SET drops any TTL
        });
        if (target) applyEntry(event, target.entryId, target.op);
      } else if (target) {
        applyEntry(event, target.entryId, target.op);
      }
      if (event.type === 'QueueEntryGameStarted' && event.data.queueEntryId === null) {
        expireHeld(keys.held(event.tenantId, event.data.matchId, event.data.userId));
      } else if (event.type === 'ChallengeMatchReleased') {
        const key = keys.held(event.tenantId, event.data.matchId, event.data.userId);
        const h = held.get(key);
        if (!h) onUnknown('held entry of a challenge match', event);
        else if (h.value !== '') applyEntry(event, h.value, UNHOLD);
        expireHeld(key);
      } else if (event.type === 'MatchCreated') {
        // pushRecent-2.lua, white's then black's.
        for (const { userId, item } of recentItems(event)) {
          const key = keys.recent(event.tenantId, userId);
          let r = recent.get(key);
          if (r && r.pos >= event.position) continue;
          if (!r) {
            r = { tenantId: event.tenantId, userId, items: [], pos: event.position };
            recent.set(key, r);
          }
          r.items.unshift(item);
          if (r.items.length > RECENT_KEEP) r.items.length = RECENT_KEEP;
          r.pos = event.position;
        }
      }
    },

    async write(redis, commandsPerPipeline = 5000) {
      const pending: Promise<[Error | null, unknown][] | null>[] = [];
      let pipeline = commandBatch(redis);
      let queued = 0;
      let total = 0;
      const flush = () => {
        if (queued === 0) return;
        pending.push(pipeline.exec());
        pipeline = commandBatch(redis);
        queued = 0;
      };
      const add = (command: (p: ChainableCommander) => void) => {
        command(pipeline);
        total++;
        if (++queued >= commandsPerPipeline) flush();
      };
      const chunked = <T>(items: T[], size: number, each: (chunk: T[]) => void) => {
        for (let from = 0; from < items.length; from += size) each(items.slice(from, from + size));
      };

      for (const [indexKey, e] of entries) {
        const key = keys.entry(e.tenantId, e.pool, e.entryId);
        add((p) =>
          p.hset(key, {
            pos: String(e.pos),
            status: e.status,
            user: e.user,
            pool: e.pool,
            enq: e.enq,
            rating: e.rating,
            range: e.range,
          }),
        );
        if (e.expires) add((p) => p.expire(key, ENDED_TTL_SECONDS));
        add((p) => (e.indexExpires ? p.set(indexKey, e.pool, 'EX', ENDED_TTL_SECONDS) : p.set(indexKey, e.pool)));
      }
      for (const [byTimeKey, p] of pools) {
        const zadd = (key: string, members: Map<string, string>) =>
          chunked([...members], 1000, (chunk) =>
            add((pl) => pl.zadd(key, ...chunk.flatMap(([member, score]) => [score, member]))),
          );
        zadd(byTimeKey, p.byTime);
        zadd(keys.byRating(p.tenantId, p.poolKey), p.byRating);
        if (p.generation > 0) add((pl) => pl.set(keys.generation(p.tenantId, p.poolKey), String(p.generation)));
      }
      chunked([...poolSet], 1000, (chunk) => add((p) => p.sadd(keys.pools(), ...chunk)));
      for (const [key, h] of held) {
        add((p) => (h.expires ? p.set(key, h.value, 'EX', ENDED_TTL_SECONDS) : p.set(key, h.value)));
      }
      for (const [key, r] of recent) {
        add((p) => p.rpush(key, `#${r.pos}`, ...r.items));
        add((p) => p.expire(key, RECENT_TTL_SECONDS));
      }
      flush();
      for (const results of await Promise.all(pending)) {
        const failure = (results ?? []).find(([error]) => error);
        if (failure) throw failure[0];
      }
      return total;
    },

    *liveEntries() {
      for (const [key, e] of entries) if (!e.expires) yield [key, e.pool] as [string, string];
    },

    size: () => ({ entries: entries.size, pools: pools.size, held: held.size, users: recent.size }),
  };
}

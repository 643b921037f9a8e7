import type { RecordedEvent } from '@mm/event-store';
import type { Redis } from 'ioredis';
import type { ProjectedEvent } from '../postgres/read-model-handlers.js';
import { toProjectedEvent } from '../postgres/read-model-projection.js';
import type { BatchProjection } from '../runner/projection-runner.js';
import { poolMember, queueViewKeys } from './queue-view-keys.js';
import { APPLY_ENTRY, PUSH_RECENT } from './scripts.js';

export const QUEUE_VIEWS_PROJECTION = 'queue-views';

/** How long an ended entry's hash is kept (it guards against redelivered events). @defaultValue 1 day */
const ENDED_TTL_SECONDS = 86_400;
const RECENT_KEEP = 10;
const RECENT_TTL_SECONDS = 7 * 86_400;

export interface QueueViewProjectionOptions {
  redis: Redis;
  prefix: string;
  /** Called once per batch for every pool that gained a searching entry and has two or more. */
  onPoolChanged?: (tenantId: string, poolKey: string) => Promise<void>;
}

type Op = { op: 'add' | 'remove' | 'status'; status: string };

/**
 * The Redis queue views the pairing worker reads: per tenant+pool, searching entries by
 * enqueue time and by rating; per user, recent opponents and colours.
 */
export function createQueueViewProjection(options: QueueViewProjectionOptions): BatchProjection {
  const { redis } = options;
  const keys = queueViewKeys(options.prefix);
  redis.defineCommand('mmApplyEntry', { numberOfKeys: 5, lua: APPLY_ENTRY });
  redis.defineCommand('mmPushRecent', { numberOfKeys: 2, lua: PUSH_RECENT });
  type Scripted = Redis & {
    mmApplyEntry(...args: (string | number)[]): Promise<number>;
    mmPushRecent(...args: (string | number)[]): Promise<number>;
  };
  const r = redis as Scripted;

  const entryOp = (event: ProjectedEvent): { entryId: string; op: Op } | null => {
    switch (event.type) {
      case 'QueueJoined':
        return { entryId: event.data.queueEntryId, op: { op: 'add', status: 'SEARCHING' } };
      case 'QueueEntryReleased':
        return { entryId: event.data.queueEntryId, op: { op: 'add', status: 'SEARCHING' } };
      case 'QueueCancelled':
        return { entryId: event.data.queueEntryId, op: { op: 'remove', status: 'CANCELLED' } };
      case 'QueueTimedOut':
        return { entryId: event.data.queueEntryId, op: { op: 'remove', status: 'TIMED_OUT' } };
      case 'QueueEntryMatched':
        return { entryId: event.data.queueEntryId, op: { op: 'remove', status: 'MATCHED' } };
      case 'ChallengeMatchClaimed':
        return event.data.heldQueueEntryId
          ? { entryId: event.data.heldQueueEntryId, op: { op: 'remove', status: 'HELD' } }
          : null;
      default:
        return null;
    }
  };

  return {
    name: QUEUE_VIEWS_PROJECTION,
    async loadCheckpoint() {
      const value = await redis.get(keys.checkpoint());
      return value === null ? undefined : Number(value);
    },
    async applyBatch(batch: readonly RecordedEvent[]) {
      const events = batch.map(toProjectedEvent).filter((e): e is ProjectedEvent => e !== null);

      // Entries held by a challenge match come back when the match is released.
      const heldLookups = events.filter((e) => e.type === 'ChallengeMatchReleased');
      const heldIds = heldLookups.length
        ? await redis.mget(
            ...heldLookups.map((e) =>
              e.type === 'ChallengeMatchReleased' ? keys.held(e.tenantId, e.data.matchId, e.data.userId) : '',
            ),
          )
        : [];
      // Events that only name the entry need its pool (stored with the entry).
      const needPool = new Map<string, { tenantId: string; entryId: string }>();
      events.forEach((event) => {
        const op = entryOp(event);
        if (op && event.type !== 'QueueJoined') {
          needPool.set(keys.entry(event.tenantId, op.entryId), { tenantId: event.tenantId, entryId: op.entryId });
        }
      });
      heldLookups.forEach((event, i) => {
        const id = heldIds[i];
        if (id) needPool.set(keys.entry(event.tenantId, id), { tenantId: event.tenantId, entryId: id });
      });
      const poolOf = new Map<string, string>();
      events.forEach((e) => {
        if (e.type === 'QueueJoined') poolOf.set(keys.entry(e.tenantId, e.data.queueEntryId), e.data.pool.key);
      });
      const lookups = [...needPool.keys()].filter((k) => !poolOf.has(k));
      if (lookups.length) {
        const pipeline = redis.pipeline();
        for (const k of lookups) pipeline.hget(k, 'pool');
        const results = (await pipeline.exec()) ?? [];
        lookups.forEach((k, i) => {
          const pool = results[i]?.[1];
          if (typeof pool === 'string') poolOf.set(k, pool);
        });
      }

      // Pools that gained a searching entry, with the pipeline index of each such change (its
      // reply is the pool's size afterwards).
      const added: { index: number; tenantId: string; poolKey: string }[] = [];
      const pipeline = r.pipeline() as unknown as Scripted & { exec(): Promise<unknown>; length: number };
      const applyEntry = (tenantId: string, entryId: string, position: number, op: Op, fields: (string | number)[]) => {
        const entryKey = keys.entry(tenantId, entryId);
        const pool = poolOf.get(entryKey);
        if (!pool) return; // the entry was never seen (e.g. a view rebuilt mid-way): nothing to move
        if (op.op === 'add') added.push({ index: pipeline.length, tenantId, poolKey: pool });
        pipeline.mmApplyEntry(
          entryKey,
          keys.byTime(tenantId, pool),
          keys.byRating(tenantId, pool),
          keys.pools(),
          keys.generation(tenantId, pool),
          position,
          op.op,
          op.status,
          entryId,
          poolMember(tenantId, pool),
          ENDED_TTL_SECONDS,
          ...fields,
        );
      };

      let heldIndex = 0;
      for (const event of events) {
        const target = entryOp(event);
        if (event.type === 'QueueJoined') {
          const d = event.data;
          applyEntry(event.tenantId, d.queueEntryId, event.position, target!.op, [
            d.userId,
            d.pool.key,
            Date.parse(d.enqueuedAt),
            d.rating,
            JSON.stringify(d.ratingRange),
          ]);
        } else if (target) {
          applyEntry(event.tenantId, target.entryId, event.position, target.op, []);
          if (event.type === 'ChallengeMatchClaimed') {
            pipeline.set(
              keys.held(event.tenantId, event.data.matchId, event.data.userId),
              target.entryId,
              'EX',
              ENDED_TTL_SECONDS,
            );
          }
        } else if (event.type === 'ChallengeMatchReleased') {
          const heldId = heldIds[heldIndex++];
          if (heldId) applyEntry(event.tenantId, heldId, event.position, { op: 'add', status: 'SEARCHING' }, []);
        } else if (event.type === 'MatchCreated') {
          const d = event.data;
          for (const [me, other, colour] of [
            [d.white, d.black, 'white'],
            [d.black, d.white, 'black'],
          ] as const) {
            pipeline.mmPushRecent(
              keys.recent(event.tenantId, me.userId),
              keys.recentPosition(event.tenantId, me.userId),
              event.position,
              JSON.stringify({ opponentId: other.userId, at: d.decidedAt, colour, matchId: d.matchId }),
              RECENT_KEEP,
              RECENT_TTL_SECONDS,
            );
          }
        }
      }
      const results = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
      const failure = results.find(([error]) => error);
      if (failure) throw failure[0];
      // A pool is signalled only when one of its additions left two or more searching entries:
      // a lone entry has nobody to be paired with (its timeout, window widening and wave passes
      // come from the scheduler tick), so the pass it would cost is skipped.
      const changed = new Map<string, { tenantId: string; poolKey: string }>();
      for (const { index, tenantId, poolKey } of added)
        if (Number(results[index]?.[1]) >= 2) changed.set(poolMember(tenantId, poolKey), { tenantId, poolKey });
      // Only after every change landed: a failed batch is redelivered from the old checkpoint.
      // The pools are signalled at the same time (the views are what the pass reads; a signal
      // that fails fails the batch, which is then re-applied and signalled again).
      const onPoolChanged = options.onPoolChanged;
      await Promise.all([
        redis.set(keys.checkpoint(), String(batch[batch.length - 1]!.position)),
        ...(onPoolChanged ? [...changed.values()].map((p) => onPoolChanged(p.tenantId, p.poolKey)) : []),
      ]);
    },
  };
}

/** Deletes every key of the queue views (SCAN + UNLINK); the projector then rebuilds them from the log. */
export async function resetQueueViews(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of queueViewKeys(prefix).all()) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (found.length) await redis.unlink(...found);
    } while (cursor !== '0');
  }
}

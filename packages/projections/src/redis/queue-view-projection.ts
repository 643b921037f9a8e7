import { randomUUID } from 'node:crypto';
import { eventSchemas } from '@mm/contracts';
import type { RecordedEvent } from '@mm/event-store';
import {
  commandBatch,
  parsePoolMember,
  poolMember,
  QUEUE_VIEWS_LAYOUT,
  type RedisClient,
  redisKeys,
  scanKeys,
  unlinkKeys,
  withScripts,
} from '@mm/redis';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ProjectedEvent } from '../postgres/read-model-handlers.js';
import { toProjectedEvent } from '../postgres/read-model-projection.js';
import { ProjectionReset } from '../runner/projection-reset.js';
import type { ApplyContext, BatchProjection, LogSource } from '../runner/projection-runner.js';
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
import { createQueueViewFold } from './queue-view-rebuild.js';

export const QUEUE_VIEWS_PROJECTION = 'queue-views';

/**
 * Pools of recently seen entries, so events that only name an entry (claims, cancels, games)
 * mostly need no lookup round trip. Safe: the apply script itself refuses an entry it does not
 * have (-1), and the checkpoint script catches a lost Redis.
 */
const POOL_CACHE_SIZE = 100_000;

export interface QueueViewProjectionOptions {
  redis: RedisClient;
  prefix: string;
  /** Called once per batch for every pool that gained a searching entry and has two or more. */
  onPoolChanged?: (tenantId: string, poolKey: string) => Promise<void>;
  /** Where resets and inconsistencies are reported. @defaultValue silent */
  logger?: Logger;
  /**
   * While no batch arrives, the epoch is read this often, so views lost without a reconnect
   * (e.g. a FLUSHALL) are rebuilt even when nothing happens. @defaultValue 5000
   */
  idleCheckMs?: number;
  /**
   * Rebuild views lost from empty with the fast path (the log folded in memory, the final keys
   * written in large pipelines; `queue-view-rebuild.ts`) instead of replaying it event by event
   * through the scripts. Both leave the same keys and values. @defaultValue true
   */
  fastRebuild?: boolean;
  /** Events per page the fast rebuild reads from the store. @defaultValue 5000 */
  rebuildPageSize?: number;
}

/** What the queue views went through since the projection was created. */
export interface QueueViewStats {
  /** Times the views were emptied and rebuilt from the start of the log. */
  rebuilds: number;
  /** Events for an entry the views did not know even after a rebuild from the log (skipped). */
  unknownEntries: number;
}

/** What the last fast rebuild did and how long its phases took. */
export interface FastRebuildStats {
  events: number;
  entries: number;
  commands: number;
  /** Reading, parsing and folding the log. */
  foldMs: number;
  /** Writing the keys and the checkpoint. */
  writeMs: number;
}

export interface QueueViewProjection extends BatchProjection {
  stats(): QueueViewStats;
  /** The last fast rebuild (undefined: none yet). */
  lastFastRebuild(): FastRebuildStats | undefined;
}

/**
 * The Redis queue views the pairing worker reads: per tenant+pool, searching entries by
 * enqueue time and by rating; per user, recent opponents and colours.
 *
 * Redis holds nothing that cannot be rebuilt from the log, and the projection notices when it
 * lost it: an epoch (random id) is written when the views are started from empty, and every
 * checkpoint is written only if the epoch and the previous checkpoint are still there (one
 * script, the round trip the checkpoint already cost); the epoch is also read in the batch's
 * first round trip when it has one, and after every reconnect. A missing epoch, a checkpoint
 * that moved, or an event for an entry the views do not know throws {@link ProjectionReset}: the
 * runner reloads the checkpoint — `loadCheckpoint` empties the views and starts from the log's
 * beginning when the epoch is gone — and replays the log into the views while the other
 * projections go on.
 */
export function createQueueViewProjection(options: QueueViewProjectionOptions): QueueViewProjection {
  const { redis, logger } = options;
  const keys = redisKeys(options.prefix);
  withScripts(redis); // applyEntry, pushRecent, writeCheckpoint (packages/redis/lua)
  type Scripted = Redis & {
    mmApplyEntry(...args: (string | number)[]): Promise<number>;
    mmPushRecent(...args: (string | number)[]): Promise<number>;
    mmWriteCheckpoint(...args: (string | number)[]): Promise<string>;
  };
  const r = redis as unknown as Scripted;

  /** The epoch of the views this projection builds on; undefined before loadCheckpoint. */
  let epoch: string | undefined;
  /** The checkpoint as this projection last wrote or read it ('' = none). */
  let checkpoint = '';
  /** When the last batch was written (its checkpoint script checked the epoch). */
  let lastBatchAt = performance.now();
  /** Position of the last event whose unknown entry made the views start over (-1: none). */
  let startedOverFor = -1;
  /** The next loadCheckpoint starts over from empty even though the epoch is there (an inconsistency was found). */
  let startOver = false;
  const stats: QueueViewStats = { rebuilds: 0, unknownEntries: 0 };
  let lastFast: FastRebuildStats | undefined;
  const poolCache = new Map<string, string>();
  const remember = (entryKey: string, pool: string) => {
    poolCache.delete(entryKey);
    poolCache.set(entryKey, pool);
    if (poolCache.size > POOL_CACHE_SIZE) poolCache.delete(poolCache.keys().next().value!);
  };

  const reset = (reason: string): ProjectionReset => new ProjectionReset(QUEUE_VIEWS_PROJECTION, reason);
  const checkEpoch = (value: unknown) => {
    if (value !== epoch) throw reset(value === null ? 'epoch missing (Redis lost its data)' : 'epoch changed');
  };

  /**
   * An event names an entry (or a held entry) the views do not have. With the epoch in place
   * that is an inconsistency (keys evicted, hashes expired under an older version's rules):
   * start over from the log. If that already happened for this event (the replay reached it
   * and still does not know the entry), a rebuild does not help — the log has no QueueJoined
   * for it: report, count and skip.
   */
  const unknown = (what: string, event: ProjectedEvent) => {
    if (event.position > startedOverFor) {
      startedOverFor = event.position;
      startOver = true;
      throw reset(`${what} unknown to the views (event ${event.type} at ${event.position})`);
    }
    stats.unknownEntries++;
    logger?.error(
      { type: event.type, position: event.position, tenantId: event.tenantId, what },
      'queue views: event for an entry the log never created; skipped',
    );
  };

  /** Signals every pool where a pair is possible (after a rebuild, whose batches signal nothing). */
  const signalPairablePools = async () => {
    const onPoolChanged = options.onPoolChanged;
    if (!onPoolChanged) return;
    const pools = (await redis.smembers(keys.pools())).map(parsePoolMember);
    if (pools.length === 0) return;
    const pipeline = commandBatch(redis);
    for (const p of pools) pipeline.zcard(keys.byTime(p.tenantId, p.poolKey));
    const sizes = (await pipeline.exec()) ?? [];
    await Promise.all(
      pools.filter((_, i) => Number(sizes[i]?.[1]) >= 2).map((p) => onPoolChanged(p.tenantId, p.poolKey)),
    );
  };

  return {
    name: QUEUE_VIEWS_PROJECTION,
    stats: () => ({ ...stats }),
    lastFastRebuild: () => (lastFast ? { ...lastFast } : undefined),
    async loadCheckpoint() {
      poolCache.clear(); // what it knew may not be what this Redis has (e.g. an older snapshot)
      // One hash tag ({views}): one slot on a cluster.
      const [stored = null, storedEpoch = null, layout = null] = await redis.mget(
        keys.checkpoint(),
        keys.epoch(),
        keys.layout(),
      );
      const sameLayout = layout === String(QUEUE_VIEWS_LAYOUT);
      if (stored !== null && storedEpoch !== null && sameLayout && !startOver) {
        epoch = storedEpoch;
        checkpoint = stored;
        return Number(stored);
      }
      // Nothing to resume from (first start, a Redis that lost its data, views without an
      // epoch, or of another key layout, from an older version) or views found inconsistent:
      // start over from the log (the keys of older layouts are deleted too).
      if (epoch !== undefined || stored !== null || startOver) {
        stats.rebuilds++;
        logger?.warn(
          {
            checkpoint: stored,
            epochFound: storedEpoch !== null,
            layout: layout ?? 1,
            currentLayout: QUEUE_VIEWS_LAYOUT,
            inconsistent: startOver,
          },
          'queue views: rebuilding from the start of the log',
        );
      }
      const deleted = await resetQueueViews(redis, options.prefix);
      if (deleted > 0 && stored === null)
        logger?.warn({ deleted }, 'queue views: keys without a checkpoint of this layout deleted (older layout)');
      epoch = randomUUID();
      await redis.mset(keys.epoch(), epoch, keys.layout(), String(QUEUE_VIEWS_LAYOUT));
      checkpoint = '';
      startOver = false;
      return undefined;
    },
    onResetNeeded(listener) {
      // With no event coming, no batch would notice an empty Redis, and the pairing workers
      // would see empty pools meanwhile: check after every reconnect (the server may be a new,
      // empty one) and, while idle, every `idleCheckMs` (a flush without a reconnect).
      let checking = false;
      const check = (why: string) => {
        if (epoch === undefined || checking) return;
        checking = true;
        const expected = epoch;
        redis
          .get(keys.epoch())
          .then(
            (value) => {
              if (value !== expected && expected === epoch) listener(`epoch missing ${why}`);
            },
            () => undefined, // the next batch or check tries again
          )
          .finally(() => {
            checking = false;
          });
      };
      const onReady = () => check('after a Redis reconnect');
      redis.on('ready', onReady);
      const idleCheckMs = options.idleCheckMs ?? 5000;
      const timer = setInterval(() => {
        if (performance.now() - lastBatchAt >= idleCheckMs) check('(checked while idle)');
      }, idleCheckMs);
      timer.unref();
      return () => {
        redis.off('ready', onReady);
        clearInterval(timer);
      };
    },
    async afterRebuild() {
      await signalPairablePools();
    },
    /**
     * The fast path of a rebuild from empty (`loadCheckpoint` just emptied the views and wrote a
     * new epoch): the log up to `target` is read in pages of `rebuildPageSize` (the next page
     * read while the current one is folded), folded in memory into the final value of every
     * key, written in pipelines of plain commands, then the checkpoint with the epoch check.
     */
    async rebuildFromLog(source: LogSource) {
      if (options.fastRebuild === false) return undefined;
      if (epoch === undefined) throw new Error('queue views: rebuildFromLog before loadCheckpoint');
      const builtOn = epoch;
      const started = performance.now();
      const pageSize = options.rebuildPageSize ?? 5000;
      const fold = createQueueViewFold(keys, (what, event) => {
        // The views were empty and the log is replayed from its start: the log has no
        // QueueJoined (or claim) for it, which a further rebuild would not change.
        startedOverFor = Math.max(startedOverFor, event.position);
        stats.unknownEntries++;
        logger?.error(
          { type: event.type, position: event.position, tenantId: event.tenantId, what },
          'queue views: event for an entry the log never created; skipped',
        );
      });
      let last: number | undefined;
      let events = 0;
      let page = source.target > -1 ? source.read(-1, pageSize) : undefined;
      while (page) {
        const read = (await page).filter((e) => e.position <= source.target);
        const tail = read.at(-1)?.position;
        page =
          tail !== undefined && tail < source.target && !source.stopped() ? source.read(tail, pageSize) : undefined;
        if (tail === undefined) break;
        for (const event of read) {
          const projected = foldInput(event);
          if (projected) fold.apply(projected);
        }
        last = tail;
        events += read.length;
      }
      if (source.stopped()) return undefined; // nothing written: the next start rebuilds (no checkpoint)
      if (last === undefined) return { position: -1, events: 0 };
      const folded = performance.now();
      const commands = await fold.write(redis);
      const position = String(last);
      const written = await r.mmWriteCheckpoint(keys.checkpoint(), keys.epoch(), builtOn, checkpoint, position);
      if (written === 'epoch') throw reset("epoch missing at the fast rebuild's checkpoint (Redis lost its data)");
      if (written === 'checkpoint') throw reset('checkpoint moved during the fast rebuild (another writer)');
      checkpoint = position;
      lastBatchAt = performance.now();
      for (const [entryKey, pool] of fold.liveEntries()) remember(entryKey, pool);
      lastFast = {
        events,
        entries: fold.size().entries,
        commands,
        foldMs: Math.round(folded - started),
        writeMs: Math.round(lastBatchAt - folded),
      };
      logger?.info({ ...lastFast, ...fold.size() }, 'queue views: rebuilt from the log (fast path)');
      return { position: last, events };
    },
    async applyBatch(batch: readonly RecordedEvent[], context?: ApplyContext) {
      if (epoch === undefined) throw new Error('queue views: applyBatch before loadCheckpoint');
      const events = batch.map(toProjectedEvent).filter((e): e is ProjectedEvent => e !== null);
      let epochChecked = false;

      // Entries held by a challenge match come back when the match is released. The epoch is
      // read in the same round trip.
      const heldKey = (e: ProjectedEvent) =>
        e.type === 'ChallengeMatchReleased' || e.type === 'ChallengeMatchClaimed'
          ? keys.held(e.tenantId, e.data.matchId, e.data.userId)
          : '';
      const heldLookups = events.filter((e) => e.type === 'ChallengeMatchReleased');
      let heldIds: (string | null)[] = [];
      if (heldLookups.length) {
        // Held keys lie in their users' slots: one GET each, sent together.
        const read = commandBatch(redis);
        read.get(keys.epoch());
        for (const e of heldLookups) read.get(heldKey(e));
        const replies = (await read.exec()) ?? [];
        const failed = replies.find(([error]) => error);
        if (failed) throw failed[0];
        const [storedEpoch, ...ids] = replies.map(([, value]) => (value ?? null) as string | null);
        checkEpoch(storedEpoch);
        epochChecked = true;
        // A claim earlier in this batch for the same match and user wrote the key after the read
        // above was taken (the same key as it will be when the release is applied, one by one).
        const claimedInBatch = new Map<string, string>();
        let lookup = 0;
        heldIds = [];
        for (const e of events) {
          if (e.type === 'ChallengeMatchClaimed') claimedInBatch.set(heldKey(e), e.data.heldQueueEntryId ?? '');
          else if (e.type === 'ChallengeMatchReleased') {
            const read = ids[lookup++] ?? null;
            heldIds.push(claimedInBatch.get(heldKey(e)) ?? read);
          }
        }
      }
      // Events that only name the entry need its pool (its hash is under the pool's hash tag):
      // from the cache, else from the entry's pool index. Both are keyed by the index key.
      const needPool = new Map<string, { tenantId: string; entryId: string; event: ProjectedEvent }>();
      events.forEach((event) => {
        const op = entryOp(event);
        if (op && event.type !== 'QueueJoined') {
          needPool.set(keys.entryPool(event.tenantId, op.entryId), {
            tenantId: event.tenantId,
            entryId: op.entryId,
            event,
          });
        }
      });
      heldLookups.forEach((event, i) => {
        const id = heldIds[i];
        if (id === null || id === undefined) unknown('held entry of a challenge match', event);
        else if (id !== '')
          needPool.set(keys.entryPool(event.tenantId, id), { tenantId: event.tenantId, entryId: id, event });
      });
      const poolOf = new Map<string, string>();
      events.forEach((e) => {
        if (e.type === 'QueueJoined') poolOf.set(keys.entryPool(e.tenantId, e.data.queueEntryId), e.data.pool.key);
      });
      for (const k of needPool.keys()) {
        const cached = poolCache.get(k);
        if (cached !== undefined && !poolOf.has(k)) poolOf.set(k, cached);
      }
      const lookups = [...needPool.keys()].filter((k) => !poolOf.has(k));
      if (lookups.length) {
        const pipeline = commandBatch(redis);
        if (!epochChecked) pipeline.get(keys.epoch());
        for (const k of lookups) pipeline.get(k);
        const results = (await pipeline.exec()) ?? [];
        const failed = results.find(([error]) => error);
        if (failed) throw failed[0];
        if (!epochChecked) {
          checkEpoch(results.shift()?.[1] ?? null);
          epochChecked = true;
        }
        lookups.forEach((k, i) => {
          const pool = results[i]?.[1];
          if (typeof pool === 'string') poolOf.set(k, pool);
          else unknown('queue entry', needPool.get(k)!.event);
        });
      }

      // Pools that gained a searching entry, with the pipeline index of each such change (its
      // reply is the pool's size afterwards).
      const added: { index: number; tenantId: string; poolKey: string }[] = [];
      const applied: { index: number; event: ProjectedEvent }[] = [];
      /** Every applyEntry with its pool: its reply is the pool's size afterwards. */
      const touched: { index: number; tenantId: string; poolKey: string }[] = [];
      const pipeline = commandBatch(redis) as unknown as Scripted & {
        exec(): Promise<[Error | null, unknown][] | null>;
        length: number;
      };
      const applyEntry = (
        event: ProjectedEvent,
        tenantId: string,
        entryId: string,
        op: Op,
        fields: (string | number)[],
      ) => {
        const indexKey = keys.entryPool(tenantId, entryId);
        const pool = poolOf.get(indexKey);
        if (!pool) return; // unknown: reported above (skipped only where a rebuild cannot help)
        if (op.ttl > 0)
          poolCache.delete(indexKey); // ended for good: no more events
        else remember(indexKey, pool);
        if (op.op === 'add' || op.op === 'unhold') added.push({ index: pipeline.length, tenantId, poolKey: pool });
        applied.push({ index: pipeline.length, event });
        touched.push({ index: pipeline.length, tenantId, poolKey: pool });
        const position = event.position;
        pipeline.mmApplyEntry(
          keys.entry(tenantId, pool, entryId),
          keys.byTime(tenantId, pool),
          keys.byRating(tenantId, pool),
          keys.generation(tenantId, pool),
          position,
          op.op,
          op.status,
          entryId,
          op.ttl,
          ...fields,
        );
        // The entry's pool index lives as long as its hash: written with the join, expiring
        // with the entry once it ended for good (redelivered: the same commands again).
        if (fields.length) pipeline.set(indexKey, pool);
        if (op.ttl > 0) pipeline.expire(indexKey, op.ttl);
      };

      let heldIndex = 0;
      for (const event of events) {
        const target = entryOp(event);
        if (event.type === 'QueueJoined') {
          const f = joinFields(event);
          applyEntry(event, event.tenantId, event.data.queueEntryId, target!.op, [
            f.user,
            f.pool,
            f.enq,
            f.rating,
            f.range,
          ]);
        } else if (event.type === 'ChallengeMatchClaimed') {
          // Recorded also when nothing is held (''), so a release that finds no key knows the
          // views lost it. Kept until the challenge match is released or its game starts.
          pipeline.set(keys.held(event.tenantId, event.data.matchId, event.data.userId), target?.entryId ?? '');
          if (target) applyEntry(event, event.tenantId, target.entryId, target.op, []);
        } else if (target) {
          applyEntry(event, event.tenantId, target.entryId, target.op, []);
        }
        if (event.type === 'QueueEntryGameStarted' && event.data.queueEntryId === null) {
          pipeline.expire(keys.held(event.tenantId, event.data.matchId, event.data.userId), ENDED_TTL_SECONDS);
        } else if (event.type === 'ChallengeMatchReleased') {
          const heldId = heldIds[heldIndex++];
          if (heldId) applyEntry(event, event.tenantId, heldId, UNHOLD, []);
          pipeline.expire(keys.held(event.tenantId, event.data.matchId, event.data.userId), ENDED_TTL_SECONDS);
        } else if (event.type === 'MatchCreated') {
          for (const { userId, item } of recentItems(event)) {
            pipeline.mmPushRecent(
              keys.recent(event.tenantId, userId),
              event.position,
              item,
              RECENT_KEEP,
              RECENT_TTL_SECONDS,
            );
          }
        }
      }
      const results = pipeline.length ? ((await pipeline.exec()) ?? []) : [];
      const failure = results.find(([error]) => error);
      if (failure) throw failure[0];
      for (const { index, event } of applied) if (results[index]?.[1] === -1) unknown('queue entry', event);
      // A pool is signalled only when one of its additions left two or more searching entries:
      // a lone entry has nobody to be paired with (its timeout, window widening and wave passes
      // come from the scheduler tick), so the pass it would cost is skipped. While the runner
      // replays the log after a reset, nothing is signalled: the views are not current yet
      // (afterRebuild signals every pool with a possible pair once they are).
      const changed = new Map<string, { tenantId: string; poolKey: string }>();
      if (!context?.rebuilding)
        for (const { index, tenantId, poolKey } of added)
          if (Number(results[index]?.[1]) >= 2) changed.set(poolMember(tenantId, poolKey), { tenantId, poolKey });
      // Only after every change landed: a failed batch is redelivered from the old checkpoint.
      // The pools are signalled at the same time (the views are what the pass reads; a signal
      // that fails fails the batch, which is then re-applied and signalled again).
      const onPoolChanged = options.onPoolChanged;
      const position = String(batch[batch.length - 1]!.position);
      // The set of pools with searching entries (the {views} slot, not the pools'): every pool
      // the batch touched is in it exactly when its last reply says it has searching entries.
      // Written with the checkpoint (same slot, one round trip); a batch that fails before is
      // redelivered, and its scripts then answer the sizes again.
      const sizes = new Map<string, number>();
      for (const { index, tenantId, poolKey } of touched) {
        const size = Number(results[index]?.[1]);
        if (size >= 0) sizes.set(poolMember(tenantId, poolKey), size);
      }
      const nonEmpty = [...sizes].filter(([, size]) => size > 0).map(([member]) => member);
      const empty = [...sizes].filter(([, size]) => size === 0).map(([member]) => member);
      const writeCheckpoint = async (): Promise<string> => {
        if (!nonEmpty.length && !empty.length)
          return r.mmWriteCheckpoint(keys.checkpoint(), keys.epoch(), epoch!, checkpoint, position);
        const write = redis.pipeline() as unknown as Scripted & { exec(): Promise<[Error | null, unknown][] | null> };
        if (nonEmpty.length) write.sadd(keys.pools(), ...nonEmpty);
        if (empty.length) write.srem(keys.pools(), ...empty);
        write.mmWriteCheckpoint(keys.checkpoint(), keys.epoch(), epoch!, checkpoint, position);
        const replies = (await write.exec()) ?? [];
        const failed = replies.find(([error]) => error);
        if (failed) throw failed[0];
        return replies.at(-1)?.[1] as string;
      };
      const [written] = await Promise.all([
        writeCheckpoint(),
        ...(onPoolChanged ? [...changed.values()].map((p) => onPoolChanged(p.tenantId, p.poolKey)) : []),
      ]);
      if (written === 'epoch') throw reset('epoch missing at checkpoint (Redis lost its data)');
      if (written === 'checkpoint')
        throw reset('checkpoint moved (Redis restored from an older state, or another writer)');
      checkpoint = position;
      lastBatchAt = performance.now();
    },
  };
}

/** The event types that change the views; the fast rebuild does not parse the others (the per-event path ignores them). */
const VIEW_EVENT_TYPES = new Set([
  'QueueJoined',
  'QueueEntryReleased',
  'QueueCancelled',
  'QueueTimedOut',
  'QueueEntryMatched',
  'QueueEntryGameStarted',
  'ChallengeMatchClaimed',
  'ChallengeMatchReleased',
  'MatchCreated',
]);

/**
 * An event as the fold needs it. A claim (`QueueEntryMatched`, about a third of a busy log, with
 * the whole pairing decision in it) is not validated again: the views only take its entry id,
 * which the schema keeps as it is. Every other event is parsed as the per-event path parses it.
 */
function foldInput(event: RecordedEvent): ProjectedEvent | null {
  if (!VIEW_EVENT_TYPES.has(event.type)) return null;
  const data = event.data as { queueEntryId?: unknown } | null;
  if (
    event.type === 'QueueEntryMatched' &&
    event.schemaVersion === eventSchemas.QueueEntryMatched.schemaVersion &&
    typeof data?.queueEntryId === 'string'
  )
    return {
      type: 'QueueEntryMatched',
      data: { queueEntryId: data.queueEntryId },
      tenantId: event.metadata.tenantId,
      position: event.position,
    } as ProjectedEvent;
  return toProjectedEvent(event);
}

/**
 * Deletes every key of the queue views, of the current key layout and of older ones (one SCAN
 * of the prefix, on every primary of a cluster, + UNLINK); the projector then rebuilds them
 * from the log. Returns how many keys it deleted.
 */
export async function resetQueueViews(redis: RedisClient, prefix: string): Promise<number> {
  const keys = redisKeys(prefix);
  let deleted = 0;
  await scanKeys(redis, `${prefix}:*`, async (found) => {
    const views = found.filter(keys.isQueueViewKey);
    deleted += views.length;
    await unlinkKeys(redis, views);
  });
  return deleted;
}

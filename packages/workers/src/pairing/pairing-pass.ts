import { pairingSettings } from '@mm/config';
import { playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import { type PoolEntry, pairPoolAsync } from '@mm/pairing';
import type { QueueViewEntry, QueueViewReader } from '@mm/projections';
import { type RedisClient, redisKeys } from '@mm/redis';
import { serviceMetadata, type WorkerContext } from '../context.js';
import { timeoutEventId } from '../ids/deterministic-ids.js';
import { type CommitOutcome, commitPair } from './commit-pair.js';
import {
  appendPassRecord,
  buildPassRecord,
  fateOf,
  type PairFate,
  pairingPassId,
  passRecordAppend,
} from './pass-record.js';
import { decidePass, type PoolMode } from './wave.js';

export interface PairingPassContext extends WorkerContext {
  redis: RedisClient;
  reader: QueueViewReader;
  modeOf: (poolKey: string) => PoolMode;
}

export interface PassResult {
  searching: number;
  timedOut: number;
  /** False when a wave pool was not due. */
  paired: boolean;
  /** Pairs the pairing proposed in this pass (before the batch limit). */
  proposed: number;
  /** Commit outcomes of this pass, by outcome. */
  outcomes: Partial<Record<CommitOutcome['outcome'] | 'error', number>>;
  /** Match ids written by this pass. */
  matchIds: string[];
  /** Id of the pass (`MatchCreated.passId`, the record's event id); null when no pair was proposed. */
  passId: string | null;
  /** Whether the record was appended (false: no match made, or the append failed and was logged). */
  recorded: boolean;
  /** More pairs were proposed than MATCH_PAIRS_PER_BATCH: the pool should be passed again. */
  more: boolean;
}

/** Pairs committed at once (they are disjoint, so order does not matter). */
const COMMIT_PARALLELISM = 8;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/**
 * One pairing pass over one tenant's pool: snapshot of the Redis view → time out entries
 * past MAX_QUEUE_TIME_SECONDS → (wave pools: only when due) `pairPoolAsync` (a thread for large pools) → commit each pair
 * (at most MATCH_PAIRS_PER_BATCH). The view only proposes: every write is decided again on
 * the player streams, so a stale view costs a skipped pair, never a wrong one.
 */
export async function runPairingPass(
  ctx: PairingPassContext,
  pool: { tenantId: string; poolKey: string },
  /** The pool's view as the caller just read it (with the pool lock); read here if absent. */
  read?: QueueViewEntry[],
): Promise<PassResult> {
  const { tenantId, poolKey } = pool;
  const { config, logger } = ctx;
  const snapshot = read ?? (await ctx.reader.snapshot(tenantId, poolKey, { history: false }));
  const now = ctx.now();
  const result: PassResult = {
    searching: snapshot.length,
    timedOut: 0,
    paired: false,
    proposed: 0,
    outcomes: {},
    matchIds: [],
    passId: null,
    recorded: false,
    more: false,
  };

  // Timeouts first: a timed-out entry must not be paired (I3 is still kept by the claim,
  // which fails on a timed-out entry; this just avoids the wasted claim).
  const maxQueueTimeMs = config.MAX_QUEUE_TIME_SECONDS * 1000;
  const expired = snapshot.filter((e) => now - e.enqueuedAt >= maxQueueTimeMs);
  await mapLimit(expired, COMMIT_PARALLELISM, async (entry) => {
    const outcome = await handleCommand({
      store: ctx.store,
      streamName: playerStream(tenantId, entry.userId),
      decider: playerDecider,
      command: {
        type: 'TimeOutQueueEntry',
        userId: entry.userId,
        queueEntryId: entry.entryId,
        now: new Date(now).toISOString(),
        maxQueueTimeMs,
      },
      metadata: serviceMetadata(tenantId, entry.entryId),
      eventIds: () => timeoutEventId(tenantId, entry.entryId),
    });
    if (outcome.ok && outcome.events.length > 0) result.timedOut++;
  });
  const expiredIds = new Set(expired.map((e) => e.entryId));
  let entries: PoolEntry[] = snapshot.filter((e) => !expiredIds.has(e.entryId));

  const mode = ctx.modeOf(poolKey);
  if (mode.kind === 'wave') {
    const key = redisKeys(config.REDIS_PREFIX).wave(tenantId, poolKey);
    await ctx.redis.set(key, String(now), 'NX');
    const anchor = Number(await ctx.redis.get(key));
    const due = decidePass(mode, { now, searching: entries.length, lastWaveAt: anchor, firstSeenAt: anchor });
    if (!due.pair) return result;
    await ctx.redis.set(key, String(now));
  }
  result.paired = true;
  if (entries.length < 2) return result;
  // The players' recent games (keys of their own hash tags, not the pool's) are read only now
  // that the pool is paired: a wave pool that is not due, or a lone entry, costs no such read.
  entries = await ctx.reader.withHistory(tenantId, entries as QueueViewEntry[]);

  const settings = pairingSettings(config, poolKey);
  // A large pool is paired in a worker thread: lock renewals, health checks and other pools go on.
  const pairing = await pairPoolAsync(entries, now, settings);
  const { pairs } = pairing;
  result.proposed = pairs.length;
  if (pairs.length === 0) return result;
  const limit = config.MATCH_PAIRS_PER_BATCH > 0 ? config.MATCH_PAIRS_PER_BATCH : pairs.length;
  const batch = pairs.slice(0, limit);
  result.more = pairs.length > batch.length;
  const passId = pairingPassId(tenantId, poolKey, now, pairs);
  result.passId = passId;
  const fates: PairFate[] = pairs.map(() => ({ outcome: 'deferred' }));
  const record = () =>
    buildPassRecord({ passId, poolKey, decidedAt: now, config: settings, entries, result: pairing, fates });
  // A pass whose one decision is this match records itself in the match's transaction (where the
  // store has one: `commitQueueMatch` says so in `alongside`): the record is known but for the
  // match id, and it is written exactly when the match is — one transaction less per such pass.
  // Other passes record after their commits.
  const alongside =
    pairs.length === 1
      ? (matchId: string) => {
          fates[0] = { outcome: 'matched', matchId };
          return passRecordAppend(tenantId, record());
        }
      : undefined;

  await mapLimit(
    batch.map((pair, index) => ({ pair, index })),
    COMMIT_PARALLELISM,
    async ({ pair, index }) => {
      try {
        const committed = await commitPair(ctx, {
          tenantId,
          poolKey,
          pair,
          decidedAt: now,
          passId,
          ...(alongside ? { alongside } : {}),
        });
        fates[index] = fateOf(committed);
        if (committed.outcome === 'matched' && committed.alongside) result.recorded = true;
        result.outcomes[committed.outcome] = (result.outcomes[committed.outcome] ?? 0) + 1;
        if (committed.outcome === 'matched') result.matchIds.push(committed.matchId);
      } catch (error) {
        // Whatever was claimed is finished or released by the recovery sweep.
        fates[index] = { outcome: 'error' };
        result.outcomes.error = (result.outcomes.error ?? 0) + 1;
        logger.error(
          { err: error, tenantId, poolKey, a: pair.a.entryId, b: pair.b.entryId },
          'committing a pair failed',
        );
      }
    },
  );

  // The record of what the pass saw and decided, unless it went with the match (above): after the
  // commits (matches and their game creation do not wait for it), one append per pass that made a
  // match. A pass whose pairs all lost their race (a stale view, or a retried job whose first run
  // committed them) made no decision anyone will ask about and writes nothing. Losing the record
  // loses no match: `mm explain` then says the pass was not recorded.
  if (result.matchIds.length === 0) return result;
  if (!result.recorded)
    try {
      await appendPassRecord(ctx, tenantId, record());
      result.recorded = true;
    } catch (error) {
      logger.error({ err: error, tenantId, poolKey, passId }, 'recording the pairing pass failed');
    }
  logger.debug({ tenantId, poolKey, ...result, matchIds: undefined }, 'pairing pass');
  return result;
}

import type { EventStore } from '@mm/event-store';
import { createQueueViewProjection, diffQueueViews, dumpQueueViews, type QueueViewDifference } from '@mm/projections';
import { type RedisClient, redisKeys } from '@mm/redis';
import { ReplayInputError } from './errors.js';
import { type ReplayProgress, scanLog } from './log-scan.js';

export interface RebuildQueueViewsOptions {
  redis: RedisClient;
  store: EventStore;
  /** Prefix to build into (not the live one): resumed from its checkpoint if it has one. */
  prefix: string;
  /** The live prefix (REDIS_PREFIX), refused as a target. */
  livePrefix: string;
  /** Stop after this position. @defaultValue the end of the log */
  to?: number;
  batchSize?: number;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface QueueViewRebuild {
  prefix: string;
  resumedFrom: number;
  position: number;
  events: number;
  keys: number;
  ms: number;
}

/** The checkpoint key of the views, as {@link dumpQueueViews} names it (relative to the prefix). */
const CHECKPOINT = redisKeys('').checkpoint();

/** Where a dump of the queue views stands (-1: no checkpoint). */
const checkpointOf = (dump: Record<string, unknown>): number =>
  typeof dump[CHECKPOINT] === 'string' ? Number(dump[CHECKPOINT]) : -1;

/** Where the queue views under `prefix` stand (-1: none). Reads them whole: for tools, not hot paths. */
export async function queueViewCheckpoint(redis: RedisClient, prefix: string): Promise<number> {
  return checkpointOf(await dumpQueueViews(redis, prefix));
}

function checkPrefix(prefix: string, livePrefix: string) {
  if (!prefix || prefix === livePrefix || prefix.startsWith(`${livePrefix}:`) || /[*?[\]]/.test(prefix))
    throw new ReplayInputError(
      `prefix ${JSON.stringify(prefix)} is, or lies inside, the live views' key space (${livePrefix})`,
      `pick another prefix, e.g. ${livePrefix}-rebuild`,
    );
}

/**
 * Replays the log into the Redis queue views under another prefix — the same projection as the
 * projector's (packages/projections), without the "pool changed" signal, so no pairing job is
 * started for the rebuilt prefix. Resumes from that prefix's checkpoint and epoch when it has
 * them (the projection starts over from empty when the epoch is gone).
 */
export async function rebuildQueueViews(options: RebuildQueueViewsOptions): Promise<QueueViewRebuild> {
  const { redis, store, prefix } = options;
  checkPrefix(prefix, options.livePrefix);
  const started = performance.now();
  const projection = createQueueViewProjection({ redis, prefix });
  const resumedFrom = (await projection.loadCheckpoint()) ?? -1;
  if (options.to !== undefined && resumedFrom > options.to)
    throw new ReplayInputError(
      `prefix ${prefix} already holds the log up to ${resumedFrom}, past ${options.to}`,
      'rebuild into a fresh prefix',
    );
  const scan = await scanLog(store, (events) => projection.applyBatch(events), {
    after: resumedFrom,
    pageSize: options.batchSize ?? 2000,
    ...(options.to === undefined ? {} : { to: { position: options.to } }),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const keys = Object.keys(await dumpQueueViews(redis, prefix)).length;
  return {
    prefix,
    resumedFrom,
    position: Math.max(resumedFrom, scan.lastPosition),
    events: scan.events,
    keys,
    ms: Math.round(performance.now() - started),
  };
}

export interface QueueViewComparison {
  position: number;
  differences: QueueViewDifference[];
  /** The live views moved during every attempt: the comparison is of a moving target. */
  moving: boolean;
}

/**
 * Compares the live views with a rebuild at the live checkpoint: the rebuild is caught up to
 * it and the live views are dumped; if the live checkpoint moved meanwhile, again (a few times).
 */
export async function compareQueueViews(
  options: Omit<RebuildQueueViewsOptions, 'to' | 'onProgress'>,
): Promise<QueueViewComparison> {
  const { redis, livePrefix, prefix } = options;
  let last: QueueViewComparison | undefined;
  const drop = (dump: Record<string, unknown>) => {
    // Bookkeeping, not content: checkpoints and pool generations depend on how batches fell.
    for (const key of Object.keys(dump)) if (key.startsWith(CHECKPOINT) || key.endsWith(':gen')) delete dump[key];
    return dump;
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const position = checkpointOf(await dumpQueueViews(redis, livePrefix));
    if (position < 0)
      throw new ReplayInputError(`no queue views under prefix ${livePrefix}`, 'check REDIS_PREFIX / REDIS_URL');
    if ((await queueViewCheckpoint(redis, prefix)) > position)
      throw new ReplayInputError(`prefix ${prefix} is ahead of the live views`, 'rebuild into a fresh prefix');
    await rebuildQueueViews({ ...options, to: position });
    const [live, rebuilt] = await Promise.all([dumpQueueViews(redis, livePrefix), dumpQueueViews(redis, prefix)]);
    const moving = checkpointOf(live) !== position;
    last = { position, differences: diffQueueViews(drop(live), drop(rebuilt)), moving };
    if (!moving) return last;
  }
  return last!;
}

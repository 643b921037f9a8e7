import { Queue } from 'bullmq';
import type { RedisClient } from '../client.js';
import { queueOptions } from '../keys.js';

/** BullMQ queue of the scheduler tick (one job per WORKER_INTERVAL_SECONDS across all worker processes). */
export const TICK_QUEUE = 'matchmaking-tick';
/** Job scheduler id of the tick. */
export const TICK_SCHEDULER_ID = 'matchmaking-tick';
/** Name of the tick's jobs. */
export const TICK_JOB = 'tick';

export const createTickQueue = (connection: RedisClient, redisPrefix: string): Queue =>
  new Queue(TICK_QUEUE, queueOptions(connection, redisPrefix, TICK_QUEUE));

/** Creates or updates the tick's job scheduler: one tick every `everyMs` (at least 100 ms). */
export const upsertTickScheduler = (queue: Queue, everyMs: number) =>
  queue.upsertJobScheduler(
    TICK_SCHEDULER_ID,
    { every: Math.max(100, Math.round(everyMs)) },
    { name: TICK_JOB, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );

import { Queue } from 'bullmq';
import type { RedisClient } from '../client.js';
import { queueOptions } from '../keys.js';

/** BullMQ queue of pairing passes: one job per tenant+pool, deduplicated per pool. */
export const PAIRING_QUEUE = 'pairing';

export interface PairingJobData {
  tenantId: string;
  poolKey: string;
}

/** Deduplication id of a pool's pairing job. */
export const pairingJobId = (tenantId: string, poolKey: string): string => JSON.stringify([tenantId, poolKey]);

export const createPairingQueue = (connection: RedisClient, redisPrefix: string): Queue<PairingJobData> =>
  new Queue<PairingJobData>(PAIRING_QUEUE, queueOptions(connection, redisPrefix, PAIRING_QUEUE));

/**
 * "Pool X changed": asks for a pairing pass. While a job for the pool is waiting, more
 * signals are dropped (deduplication); a signal that arrives while the pool's job is
 * running is kept and becomes the next job (`keepLastIfActive`), so at most one pass per
 * pool runs at a time and none is lost. (The worker also re-checks the pool's generation.)
 */
export async function signalPoolChanged(
  queue: Queue<PairingJobData>,
  tenantId: string,
  poolKey: string,
): Promise<void> {
  await queue.add(
    'pair',
    { tenantId, poolKey },
    {
      deduplication: { id: pairingJobId(tenantId, poolKey), keepLastIfActive: true },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  );
}

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ queue of pairing passes: one job per tenant+pool, deduplicated per pool. */
export const PAIRING_QUEUE = 'pairing';

export interface PairingJobData {
  tenantId: string;
  poolKey: string;
}

/** Deduplication id of a pool's pairing job. */
export const pairingJobId = (tenantId: string, poolKey: string): string => JSON.stringify([tenantId, poolKey]);

/** BullMQ's own key prefix for this deployment. */
export const bullPrefix = (redisPrefix: string): string => `${redisPrefix}:bull`;

export const createPairingQueue = (connection: Redis, redisPrefix: string): Queue<PairingJobData> =>
  new Queue<PairingJobData>(PAIRING_QUEUE, { connection, prefix: bullPrefix(redisPrefix) });

/**
 * "Pool X changed": asks for a pairing pass. While a job for the pool is waiting, more
 * signals are dropped (deduplication); a change during a running pass is caught by the
 * pool's generation counter, which the worker re-checks before it finishes.
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
      deduplication: { id: pairingJobId(tenantId, poolKey) },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  );
}

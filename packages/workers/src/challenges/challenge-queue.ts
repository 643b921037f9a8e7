import { bullPrefix } from '@mm/projections';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ queue of the challenge workers: one delayed expiry job per challenge, plus the periodic sweep. */
export const CHALLENGE_QUEUE = 'challenges';

/** Job names in {@link CHALLENGE_QUEUE}. */
export const EXPIRE_CHALLENGE_JOB = 'expire';
export const SWEEP_ACCEPTED_JOB = 'sweep-accepted';

export interface ChallengeJobData {
  tenantId: string;
  challengeId: string;
}

export const createChallengeQueue = (connection: Redis, redisPrefix: string): Queue<ChallengeJobData> =>
  new Queue<ChallengeJobData>(CHALLENGE_QUEUE, { connection, prefix: bullPrefix(redisPrefix) });

/**
 * Enqueues the challenge's expiry job, due at `expiresAt`. The job id is the challenge
 * id, so scheduling twice (a retried request) keeps one job. The API schedules it
 * BEFORE appending `ChallengeIssued`: a job for a challenge that was never issued is a
 * harmless no-op, while an issued challenge without a job would never be expired in the
 * log (and a crashed accept of it never settled).
 */
export async function scheduleChallengeExpiry(
  queue: Queue<ChallengeJobData>,
  challengeId: string,
  tenantId: string,
  expiresAt: string | Date,
  now: Date = new Date(),
): Promise<void> {
  const due = typeof expiresAt === 'string' ? Date.parse(expiresAt) : expiresAt.getTime();
  await queue.add(
    EXPIRE_CHALLENGE_JOB,
    { tenantId, challengeId },
    {
      jobId: challengeId,
      delay: Math.max(0, due - now.getTime()),
      attempts: 8,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  );
}

import { Queue } from 'bullmq';
import type { RedisClient } from '../client.js';
import { queueOptions } from '../keys.js';

/** BullMQ queue of the challenge workers: one delayed expiry job per challenge, plus the periodic sweep. */
export const CHALLENGE_QUEUE = 'challenges';

/** Job names in {@link CHALLENGE_QUEUE}. */
export const EXPIRE_CHALLENGE_JOB = 'expire';
export const SWEEP_ACCEPTED_JOB = 'sweep-accepted';

/** Job scheduler id of the challenge sweep (the scheduler and its jobs share the name). */
export const CHALLENGE_SWEEP_SCHEDULER_ID = SWEEP_ACCEPTED_JOB;

export interface ChallengeJobData {
  tenantId: string;
  challengeId: string;
}

export const createChallengeQueue = (connection: RedisClient, redisPrefix: string): Queue<ChallengeJobData> =>
  new Queue<ChallengeJobData>(CHALLENGE_QUEUE, queueOptions(connection, redisPrefix, CHALLENGE_QUEUE));

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

/** Creates or updates the challenge sweep's job scheduler: one sweep every `everyMs`. */
export const upsertChallengeSweepScheduler = (queue: Queue<ChallengeJobData>, everyMs: number) =>
  queue.upsertJobScheduler(
    CHALLENGE_SWEEP_SCHEDULER_ID,
    { every: everyMs },
    { name: SWEEP_ACCEPTED_JOB, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );

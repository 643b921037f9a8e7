import { randomUUID } from 'node:crypto';
import { challengeStream } from '@mm/contracts';
import { issueChallenge } from '@mm/domain';
import { bullPrefix, EXPIRE_CHALLENGE_JOB, SWEEP_ACCEPTED_JOB, scheduleChallengeExpiry, TICK_QUEUE } from '@mm/redis';
import { deleteRedisPrefix } from '@mm/testing';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchWith, ofType, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import { type ChallengeWorkers, startChallengeWorkers } from '../challenges/index.js';

/*
 * Redis loses every key (a restart without persistence) — here only the keys of this test's
 * prefix, never the shared Redis's other tests. Everything a lost job stood for must come back
 * from the log and the read models: the job schedulers are re-created by the running
 * processes (no restart), a match whose game-creation job was lost gets its game, and a pending
 * challenge whose expiry job was lost is expired.
 */
let stack: WorkerStack;
let challengeWorkers: ChallengeWorkers;
let tickQueue: Queue;
beforeAll(async () => {
  stack = await startWorkerStack();
  tickQueue = new Queue(TICK_QUEUE, { connection: stack.redis, prefix: bullPrefix(stack.prefix, TICK_QUEUE) });
});
afterAll(async () => {
  await challengeWorkers?.close();
  await tickQueue?.close();
  await stack?.stop();
});

describe('after Redis lost every key', () => {
  it('re-creates the tick scheduler as soon as Redis reconnects', async () => {
    // Its own client and no periodic check within the test: only the reconnect can bring it back.
    const connection = stack.redis.duplicate();
    const workers = await stack.startWorkers({ redis: connection, roles: ['scheduler'], schedulerCheckMs: 3_600_000 });
    try {
      expect(await tickQueue.getJobScheduler('matchmaking-tick')).toBeDefined();
      await tickQueue.removeJobScheduler('matchmaking-tick');
      expect(await tickQueue.getJobScheduler('matchmaking-tick')).toBeUndefined();
      connection.disconnect(true); // drops the connection; ioredis reconnects ('ready' again)
      await stack.until(
        async () => (await tickQueue.getJobScheduler('matchmaking-tick')) !== undefined,
        'the tick scheduler after the reconnect',
        5_000,
      );
    } finally {
      await workers.close();
      connection.disconnect();
    }
  });

  it('re-creates the schedulers, creates the game of a match whose job was lost and expires a challenge whose job was lost', async () => {
    // Pairing and the tick run; nobody creates games yet, so the match's job waits in Redis.
    await stack.startWorkers({ roles: ['pairing', 'scheduler'] });
    challengeWorkers = await startChallengeWorkers({
      config: stack.config,
      logger: pino({ level: 'silent' }),
      store: stack.store,
      redis: stack.redis,
      db: stack.db.pool,
      sweepEveryMs: 500,
      expiryGraceMs: 500,
      schedulerCheckMs: 500,
    });
    await stack.join('loss-a', 1500);
    await stack.join('loss-b', 1500);
    const match = await stack.until(async () => matchWith(await stack.events(), 'loss-'), 'the match');
    const gameJob = await stack.until(
      async () => (await stack.context().gameCreationQueue.getJob(match.matchId)) ?? false,
      'its game-creation job',
    );
    expect(await gameJob.getState()).toBe('waiting');

    // A challenge due in 1.5 s, its expiry job scheduled the way the API does it.
    const challengeId = randomUUID();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + 1500).toISOString();
    await scheduleChallengeExpiry(challengeWorkers.queue, challengeId, TENANT, expiresAt, now);
    const issued = await issueChallenge(
      {
        store: stack.store,
        metadata: { tenantId: TENANT, correlationId: 'loss', causationId: null, actor: { type: 'user', id: 'loss-c' } },
        now: now.toISOString(),
      },
      {
        challengeId,
        challengerId: 'loss-c',
        opponentId: 'loss-d',
        timeControl: '3+0',
        mode: 'rated',
        colour: 'random',
        message: null,
        expiresAt,
        maxPendingChallenges: 3,
      },
    );
    expect(issued.ok).toBe(true);
    expect(await challengeWorkers.queue.getJob(challengeId)).toMatchObject({ name: EXPIRE_CHALLENGE_JOB });
    expect(await tickQueue.getJobScheduler('matchmaking-tick')).toBeDefined();

    await deleteRedisPrefix(stack.redis, stack.prefix);
    const lostAt = Date.now();
    expect(await tickQueue.getJobScheduler('matchmaking-tick')).toBeUndefined();
    expect(await challengeWorkers.queue.getJob(challengeId)).toBeUndefined();

    // Now a process that creates games starts (the lost job would have been its work).
    await stack.startWorkers({ roles: ['game-creation'] });
    await stack.until(
      async () => (await tickQueue.getJobScheduler('matchmaking-tick')) !== undefined,
      'the tick scheduler again',
      8_000,
    );
    const tickBack = Date.now() - lostAt;
    await stack.until(
      async () => (await challengeWorkers.queue.getJobScheduler(SWEEP_ACCEPTED_JOB)) !== undefined,
      'the challenge sweep scheduler again',
      8_000,
    );
    const created = await stack.until(
      async () => ofType(await stack.events(), 'GameCreated').find((e) => e.data.matchId === match.matchId),
      'GameCreated for the match whose job was lost',
      15_000,
    );
    const expired = await stack.until(
      async () =>
        ofType(await stack.events(), 'ChallengeExpired').find((e) => e.streamName === challengeStream(challengeId)),
      'ChallengeExpired for the challenge whose job was lost',
      15_000,
    );
    process.stderr.write(
      `redis loss: tick scheduler back after ${tickBack} ms, game after ${created.recordedAt.getTime() - lostAt} ms, challenge expired after ${expired.recordedAt.getTime() - lostAt} ms\n`,
    );
  });
});

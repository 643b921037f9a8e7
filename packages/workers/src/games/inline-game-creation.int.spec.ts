import { createMetricsRegistry } from '@mm/metrics';
import { defaultPairingConfig, pairPool } from '@mm/pairing';
import { GAME_CREATION_QUEUE, type GameCreationJobData } from '@mm/redis';
import { json } from '@mm/testing';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofType, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import { commitPair } from '../pairing/commit-pair.js';
import type { StartWorkersOptions } from '../start-workers.js';

let stack: WorkerStack;
beforeAll(async () => {
  // Claims are recovered late here, so a game re-driven below came from its own setting.
  stack = await startWorkerStack({ CLAIM_RECOVERY_SECONDS: '60', GAME_CREATION_REDRIVE_SECONDS: '1' });
});
afterAll(async () => {
  await stack?.stop();
});

const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}+]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
const jobsRun = `matchmaking_queue_job_duration_seconds_count{queue="${GAME_CREATION_QUEUE}",outcome="completed"}`;

/** The game of the match that paired `a` and `b`, once recorded. */
const gameOf = (a: string, b: string) =>
  stack.until(async () => {
    const events = await stack.events();
    const match = ofType(events, 'MatchCreated').find((m) =>
      [m.data.white.userId, m.data.black.userId].every((u: string) => u === a || u === b),
    );
    return match && ofType(events, 'GameCreated').find((g) => g.data.matchId === match.data.matchId);
  }, `the game of ${a} and ${b}`);

/** Workers with a registry of their own, and every game-creation job their queue adds. */
const startWatched = async (options: Partial<StartWorkersOptions> = {}) => {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const workers = await stack.startWorkers({ registry, ...options });
  const added: Job<GameCreationJobData>[] = [];
  workers.gameCreationQueue.on('waiting', (job) => added.push(job as Job<GameCreationJobData>));
  return { registry, workers, added };
};

describe('the first game-creation attempt in the pairing process', () => {
  it('creates the game of a match it paired without a game-creation job, and without reading the match', async () => {
    // The workers' store, counting reads of match streams.
    const matchReads: string[] = [];
    const store = new Proxy(stack.store, {
      get(target, key, receiver) {
        if (key === 'readStream')
          return (name: string, ...rest: unknown[]) => {
            if (name.startsWith('match-')) matchReads.push(name);
            return (target.readStream as (...args: unknown[]) => unknown).call(target, name, ...rest);
          };
        return Reflect.get(target, key, receiver);
      },
    });
    const { registry, workers, added } = await startWatched({ store });
    try {
      await stack.join('ann', 1500);
      await stack.join('bob', 1510);
      const game = await gameOf('ann', 'bob');
      expect(game).toBeDefined();
      const text = await registry.metrics();
      expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="game_created"}')).toBe(1);
      expect(value(text, jobsRun)).toBe(0);
      expect(added).toEqual([]);
      expect(matchReads).toEqual([]);
    } finally {
      await workers.close();
    }
  });

  it('hands a failed first attempt to a job with the attempts left (GAME_CREATION_ATTEMPTS in all)', async () => {
    const { registry, workers, added } = await startWatched();
    const answer = stack.liveGame.handle;
    let refused = 0;
    stack.liveGame.handle = (req, res) => {
      if (req.method === 'POST' && refused++ === 0) return json(res, 503, { detail: 'busy' });
      return answer(req, res);
    };
    try {
      await stack.join('cat', 1700);
      await stack.join('dan', 1710);
      const game = await gameOf('cat', 'dan');
      // the stack allows 3 attempts: one in-process, the job the other two
      expect(
        added.map((job) => ({ id: job.id, attempts: job.opts.attempts, attemptsBefore: job.data.attemptsBefore })),
      ).toEqual([{ id: game.data.matchId, attempts: 2, attemptsBefore: 1 }]);
      const text = await registry.metrics();
      expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="retry"}')).toBe(1);
      expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="game_created"}')).toBe(1);
      expect(value(text, jobsRun)).toBe(1);
    } finally {
      stack.liveGame.handle = answer;
      await workers.close();
    }
  });

  it('leaves it to a job when turned off (inlineGameCreation: false)', async () => {
    const { registry, workers, added } = await startWatched({ inlineGameCreation: false });
    try {
      await stack.join('eve', 1900);
      await stack.join('fay', 1910);
      const game = await gameOf('eve', 'fay');
      expect(added.map((job) => job.id)).toEqual([game.data.matchId]);
      expect(value(await registry.metrics(), jobsRun)).toBe(1);
    } finally {
      await workers.close();
    }
  });

  it('a first attempt lost with its process: the tick gives the match a job after GAME_CREATION_REDRIVE_SECONDS', async () => {
    // What a pairing process killed right after its commit leaves: the match, no attempt.
    const [ea, eb] = [await stack.join('gil', 1800), await stack.join('hal', 1805)];
    const now = Date.now();
    const [pair] = pairPool(
      [
        { entryId: ea, userId: 'gil', rating: 1800, enqueuedAt: now - 1000 },
        { entryId: eb, userId: 'hal', rating: 1805, enqueuedAt: now - 1000 },
      ],
      now,
      defaultPairingConfig,
    ).pairs;
    const started: string[] = [];
    const dying = {
      ...stack.context(),
      startGame: async (_tenant: string, matchId: string) => void started.push(matchId),
    };
    const committed = await commitPair(dying, { tenantId: TENANT, poolKey: POOL.key, pair: pair!, decidedAt: now });
    expect(committed.outcome).toBe('matched');
    expect(started).toHaveLength(1);
    await stack.settle(); // the sweep finds it in the read models
    await new Promise((r) => setTimeout(r, 1100)); // GAME_CREATION_REDRIVE_SECONDS = 1
    const workers = await stack.startWorkers({ roles: ['game-creation'] });
    try {
      const { sweep } = await workers.tick();
      expect(sweep?.redriven).toBe(1);
      expect(await gameOf('gil', 'hal')).toBeDefined();
    } finally {
      await workers.close();
    }
  });
});

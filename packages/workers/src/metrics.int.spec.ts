import { createMetricsRegistry } from '@mm/metrics';
import { GAME_CREATION_QUEUE, PAIRING_QUEUE, TICK_QUEUE } from '@mm/redis';
import { json } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofType, startWorkerStack, type WorkerStack } from '../test/stack.js';

let stack: WorkerStack;
beforeAll(async () => {
  stack = await startWorkerStack();
});
afterAll(async () => {
  await stack?.stop();
});

const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}+]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

describe('workers metrics (real PostgreSQL, Redis, BullMQ)', () => {
  it('measure passes, matches, game creation with a retry, sweeps, pool sizes and the queues', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    await stack.startWorkers({ registry });
    // live-game-api answers 503 once: the attempt is retried, then the game is made.
    const answer = stack.liveGame.handle;
    let refused = 0;
    stack.liveGame.handle = (req, res) => {
      if (req.method === 'POST' && refused++ === 0) return json(res, 503, { detail: 'busy' });
      return answer(req, res);
    };
    await stack.join('ann', 1500);
    await stack.join('bob', 1540);
    await stack.join('zed', 2400); // outside both windows: stays searching
    const game = await stack.until(async () => ofType(await stack.events(), 'GameCreated')[0], 'the game');
    expect(game).toBeDefined();
    await stack.until(
      async () => value(await registry.metrics(), 'matchmaking_recovery_sweeps_total{result="ok"}') >= 1,
      'a recovery sweep',
    );
    await stack.until(
      async () => value(await registry.metrics(), 'matchmaking_pool_searching_entries{pool="3+0",mode="rated"}') === 1,
      'the pool at one searching entry',
    );

    const text = await registry.metrics();
    expect(value(text, 'matchmaking_matches_total{pool="3+0",mode="rated"}')).toBe(1);
    expect(value(text, 'matchmaking_pair_commits_total{outcome="matched"}')).toBe(1);
    expect(value(text, 'matchmaking_pairing_pass_duration_seconds_count{pool_size="2-9"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="retry"}')).toBe(1);
    expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="game_created"}')).toBe(1);
    expect(value(text, 'matchmaking_claim_conflicts_total{stage="first_claim"}')).toBe(0);
    expect(value(text, 'matchmaking_pool_oldest_wait_seconds{pool="3+0",mode="rated"}')).toBeGreaterThan(0);
    // A configured pool nobody waits in is reported, as 0.
    expect(value(text, 'matchmaking_pool_searching_entries{pool="10+0",mode="casual"}')).toBe(0);
    expect(value(text, 'matchmaking_pool_oldest_wait_seconds{pool="10+0",mode="casual"}')).toBe(0);
    for (const queue of [PAIRING_QUEUE, GAME_CREATION_QUEUE, TICK_QUEUE])
      expect(value(text, `matchmaking_queue_jobs{queue="${queue}",state="failed"}`), queue).toBeGreaterThanOrEqual(0);
    expect(value(text, `matchmaking_queue_jobs{queue="${GAME_CREATION_QUEUE}",state="waiting"}`)).toBe(0);
    // The refused first attempt ran in the pairing process (no job); the retry was the one job.
    expect(
      value(text, `matchmaking_queue_job_duration_seconds_count{queue="${GAME_CREATION_QUEUE}",outcome="failed"}`),
    ).toBe(0);
    expect(
      value(text, `matchmaking_queue_job_duration_seconds_count{queue="${GAME_CREATION_QUEUE}",outcome="completed"}`),
    ).toBe(1);
    expect(value(text, `matchmaking_queue_job_wait_seconds_count{queue="${PAIRING_QUEUE}"}`)).toBeGreaterThanOrEqual(1);
  });
});

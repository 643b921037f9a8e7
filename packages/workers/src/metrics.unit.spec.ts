import { createMetricsRegistry } from '@mm/metrics';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics, gameCreationMetricOutcome, poolSizeBucket } from './metrics.js';
import type { PassResult } from './pairing/pairing-pass.js';

const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}+]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

const passResult = (over: Partial<PassResult>): PassResult => ({
  searching: 0,
  timedOut: 0,
  paired: true,
  proposed: 0,
  outcomes: {},
  matchIds: [],
  passId: null,
  recorded: false,
  more: false,
  ...over,
});

describe('worker metrics', () => {
  it('buckets pool sizes', () => {
    expect([0, 1, 2, 9, 10, 99, 100, 999, 1000, 50_000].map(poolSizeBucket)).toEqual([
      '0-1',
      '0-1',
      '2-9',
      '2-9',
      '10-99',
      '10-99',
      '100-999',
      '100-999',
      '1000+',
      '1000+',
    ]);
  });

  it('records a pass: duration by pool size, matches by pool and mode, commit outcomes, claim conflicts, timeouts', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createWorkerMetrics(registry);
    expect(createWorkerMetrics(registry)).toBeDefined(); // a second component shares them
    metrics.pass(
      '5+3:casual',
      passResult({
        searching: 42,
        timedOut: 2,
        outcomes: { matched: 3, stale: 1, first_claim_failed: 2, second_claim_failed: 1, claim_conflict: 4 },
        matchIds: ['m1', 'm2', 'm3'],
      }),
      0.03,
    );
    metrics.pass('5+3:casual', passResult({ searching: 1 }), 0.001);
    const text = await registry.metrics();
    expect(value(text, 'matchmaking_pairing_pass_duration_seconds_count{pool_size="10-99"}')).toBe(1);
    expect(value(text, 'matchmaking_pairing_pass_duration_seconds_count{pool_size="0-1"}')).toBe(1);
    expect(value(text, 'matchmaking_pairing_pass_duration_seconds_count{pool_size="1000+"}')).toBe(0);
    expect(value(text, 'matchmaking_matches_total{pool="5+3",mode="casual"}')).toBe(3);
    expect(value(text, 'matchmaking_pair_commits_total{outcome="stale"}')).toBe(1);
    expect(value(text, 'matchmaking_claim_conflicts_total{stage="first_claim"}')).toBe(2);
    expect(value(text, 'matchmaking_claim_conflicts_total{stage="second_claim"}')).toBe(1);
    expect(value(text, 'matchmaking_claim_conflicts_total{stage="transaction"}')).toBe(4);
    expect(value(text, 'matchmaking_queue_timeouts_total')).toBe(2);
  });

  it('records game creation outcomes (a reconciled game apart) and sweeps', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createWorkerMetrics(registry);
    metrics.gameCreation(gameCreationMetricOutcome({ outcome: 'game_created', gameId: 'g' }), 0.02);
    metrics.gameCreation(gameCreationMetricOutcome({ outcome: 'game_created', gameId: 'g', reconciled: true }), 0.02);
    metrics.gameCreation('retry', 1);
    metrics.sweep({ claims: { completed: 1, not_claimed: 5, error: 1 }, redriven: 2 }, 0.01);
    metrics.sweep(undefined, 0.5);
    const text = await registry.metrics();
    expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="game_created"}')).toBe(1);
    expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="reconciled"}')).toBe(1);
    expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="retry"}')).toBe(1);
    expect(value(text, 'matchmaking_game_creation_attempts_total{outcome="aborted"}')).toBe(0);
    expect(value(text, 'matchmaking_recovery_sweeps_total{result="ok"}')).toBe(1);
    expect(value(text, 'matchmaking_recovery_sweeps_total{result="error"}')).toBe(1);
    expect(value(text, 'matchmaking_recovery_actions_total{action="completed"}')).toBe(1);
    expect(value(text, 'matchmaking_recovery_actions_total{action="error"}')).toBe(1);
    expect(value(text, 'matchmaking_recovery_actions_total{action="redriven"}')).toBe(2);
    expect(text).not.toContain('action="not_claimed"');
  });
});

import { parsePoolKey, poolKey } from '@mm/contracts';
import { metricOnce } from '@mm/metrics';
import type { QueueViewReader } from '@mm/projections';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import type { GameCreationOutcome } from './games/create-game.js';
import type { PassResult } from './pairing/pairing-pass.js';
import type { SweepResult } from './recovery/sweep.js';

/** Pool sizes a pass's duration is bucketed by (the `pool_size` label): the pairing's cost grows with it. */
export const POOL_SIZE_BUCKETS = ['0-1', '2-9', '10-99', '100-999', '1000+'] as const;

/** The `pool_size` label of a pass over `searching` entries. */
export function poolSizeBucket(searching: number): (typeof POOL_SIZE_BUCKETS)[number] {
  if (searching < 2) return '0-1';
  if (searching < 10) return '2-9';
  if (searching < 100) return '10-99';
  if (searching < 1000) return '100-999';
  return '1000+';
}

/** Commit outcomes of a pair that are a claim lost to a concurrent write (cancel, timeout, another match). */
const CLAIM_CONFLICTS = {
  first_claim_failed: 'first_claim',
  second_claim_failed: 'second_claim',
  claim_conflict: 'transaction',
} as const;

/** How a game-creation attempt ended (`retry`: BullMQ retries it with backoff; `error`: an unexpected failure). */
export type GameCreationMetricOutcome = GameCreationOutcome['outcome'] | 'reconciled' | 'retry' | 'error';

const GAME_CREATION_OUTCOMES: GameCreationMetricOutcome[] = [
  'game_created',
  'reconciled',
  'aborted',
  'already_settled',
  'match_not_found',
  'retry',
  'error',
];

/** `time control` and `mode` labels of a pool key (`3+0:rated`). */
const poolLabels = (poolKey: string) => {
  try {
    const { timeControl, mode } = parsePoolKey(poolKey);
    return { pool: timeControl, mode };
  } catch {
    return { pool: poolKey, mode: 'unknown' };
  }
};

/** A scrape never waits longer than this for the pool views in Redis. */
const POOL_COLLECT_TIMEOUT_MS = 1000;

/**
 * The workers' metrics, registered in `registry` once (a second call returns the same ones):
 * pairing passes, matches, claim conflicts, game creation, recovery sweeps.
 */
export function createWorkerMetrics(registry: Registry) {
  const once = <M extends Metric>(name: string, make: () => M) => metricOnce(registry, name, make);
  const passSeconds = once(
    'matchmaking_pairing_pass_duration_seconds',
    () =>
      new Histogram({
        name: 'matchmaking_pairing_pass_duration_seconds',
        help: 'Pairing pass duration (snapshot to last commit) by pool size bucket (searching entries)',
        labelNames: ['pool_size'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
  );
  const matches = once(
    'matchmaking_matches_total',
    () =>
      new Counter({
        name: 'matchmaking_matches_total',
        help: 'Queue matches made (MatchCreated written by a pairing pass) by pool (time control) and mode',
        labelNames: ['pool', 'mode'] as const,
        registers: [registry],
      }),
  );
  const commits = once(
    'matchmaking_pair_commits_total',
    () =>
      new Counter({
        name: 'matchmaking_pair_commits_total',
        help: 'Pairs a pass tried to commit, by outcome (matched, stale, first_claim_failed, second_claim_failed, claim_conflict, error)',
        labelNames: ['outcome'] as const,
        registers: [registry],
      }),
  );
  const claimConflicts = once(
    'matchmaking_claim_conflicts_total',
    () =>
      new Counter({
        name: 'matchmaking_claim_conflicts_total',
        help: 'Claims lost to a concurrent write on a player stream (first_claim, second_claim, transaction)',
        labelNames: ['stage'] as const,
        registers: [registry],
      }),
  );
  const timedOut = once(
    'matchmaking_queue_timeouts_total',
    () =>
      new Counter({
        name: 'matchmaking_queue_timeouts_total',
        help: 'Queue entries timed out by pairing passes (MAX_QUEUE_TIME_SECONDS)',
        registers: [registry],
      }),
  );
  const gameCreation = once(
    'matchmaking_game_creation_attempts_total',
    () =>
      new Counter({
        name: 'matchmaking_game_creation_attempts_total',
        help: 'Game-creation job attempts by outcome (game_created, reconciled, aborted, already_settled, match_not_found, retry, error)',
        labelNames: ['outcome'] as const,
        registers: [registry],
      }),
  );
  const gameCreationSeconds = once(
    'matchmaking_game_creation_duration_seconds',
    () =>
      new Histogram({
        name: 'matchmaking_game_creation_duration_seconds',
        help: 'Game-creation attempt duration (live-game-api calls and the events) by outcome',
        labelNames: ['outcome'] as const,
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  const sweeps = once(
    'matchmaking_recovery_sweeps_total',
    () =>
      new Counter({
        name: 'matchmaking_recovery_sweeps_total',
        help: 'Recovery sweeps of the scheduler tick by result (ok | error)',
        labelNames: ['result'] as const,
        registers: [registry],
      }),
  );
  const sweepSeconds = once(
    'matchmaking_recovery_sweep_duration_seconds',
    () =>
      new Histogram({
        name: 'matchmaking_recovery_sweep_duration_seconds',
        help: 'Recovery sweep duration',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      }),
  );
  const recovered = once(
    'matchmaking_recovery_actions_total',
    () =>
      new Counter({
        name: 'matchmaking_recovery_actions_total',
        help: 'What recovery sweeps did: stale claims by outcome (completed, released, settled, game_pending, no_decision, error) and game creations re-driven (redriven)',
        labelNames: ['action'] as const,
        registers: [registry],
      }),
  );

  for (const bucket of POOL_SIZE_BUCKETS) passSeconds.zero({ pool_size: bucket });
  for (const outcome of GAME_CREATION_OUTCOMES) gameCreation.inc({ outcome }, 0);
  for (const stage of Object.values(CLAIM_CONFLICTS)) claimConflicts.inc({ stage }, 0);
  for (const result of ['ok', 'error']) sweeps.inc({ result }, 0);
  recovered.inc({ action: 'redriven' }, 0);

  return {
    /** Records a finished pairing pass over `poolKey` that took `seconds`. */
    pass(poolKey: string, result: PassResult, seconds: number): void {
      passSeconds.observe({ pool_size: poolSizeBucket(result.searching) }, seconds);
      if (result.matchIds.length > 0) matches.inc(poolLabels(poolKey), result.matchIds.length);
      if (result.timedOut > 0) timedOut.inc(result.timedOut);
      for (const [outcome, count] of Object.entries(result.outcomes)) {
        if (!count) continue;
        commits.inc({ outcome }, count);
        const stage = CLAIM_CONFLICTS[outcome as keyof typeof CLAIM_CONFLICTS];
        if (stage) claimConflicts.inc({ stage }, count);
      }
    },
    /** Records a game-creation attempt. */
    gameCreation(outcome: GameCreationMetricOutcome, seconds: number): void {
      gameCreation.inc({ outcome });
      gameCreationSeconds.observe({ outcome }, seconds);
    },
    /** Records a recovery sweep (`result` undefined: it failed). */
    sweep(result: SweepResult | undefined, seconds: number): void {
      sweeps.inc({ result: result ? 'ok' : 'error' });
      sweepSeconds.observe(seconds);
      if (!result) return;
      for (const [outcome, count] of Object.entries(result.claims)) {
        if (count && outcome !== 'not_claimed') recovered.inc({ action: outcome }, count);
      }
      if (result.redriven > 0) recovered.inc({ action: 'redriven' }, result.redriven);
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** The outcome label of a finished game-creation attempt. */
export const gameCreationMetricOutcome = (outcome: GameCreationOutcome): GameCreationMetricOutcome =>
  outcome.outcome === 'game_created' && outcome.reconciled ? 'reconciled' : outcome.outcome;

/**
 * Pool sizes read from the Redis queue views when scraped, summed over tenants per pool (time
 * control) and mode: `matchmaking_pool_searching_entries{pool,mode}` and
 * `matchmaking_pool_oldest_wait_seconds{pool,mode}` (the longest current wait, 0 for an empty
 * pool). Every configured pool (`timeControls` × rated/casual) is reported, empty ones as 0.
 */
export function observePools(
  registry: Registry,
  reader: Pick<QueueViewReader, 'activePools' | 'poolStats'>,
  options: { now: () => number; timeControls: readonly string[]; logger?: Pick<Logger, 'warn'> },
): void {
  const { now, logger } = options;
  const configured = options.timeControls.flatMap((tc) => [poolKey(tc, 'rated'), poolKey(tc, 'casual')]);
  if (registry.getSingleMetric('matchmaking_pool_searching_entries')) return;
  let pending: Promise<Map<string, { size: number; oldest: number | null }>> | undefined;
  const read = () => {
    pending ??= (async () => {
      const pools = new Map<string, { size: number; oldest: number | null }>(
        configured.map((key) => [key, { size: 0, oldest: null }]),
      );
      const stats = await Promise.race([
        reader.activePools().then((active) => reader.poolStats(active)),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('Redis did not answer')), POOL_COLLECT_TIMEOUT_MS).unref(),
        ),
      ]).catch((error: unknown) => {
        logger?.warn({ err: error }, 'could not read pool sizes');
        return [];
      });
      for (const { poolKey, size, oldestEnqueuedAt } of stats) {
        const pool = pools.get(poolKey) ?? { size: 0, oldest: null };
        pool.size += size;
        if (oldestEnqueuedAt !== null && (pool.oldest === null || oldestEnqueuedAt < pool.oldest))
          pool.oldest = oldestEnqueuedAt;
        pools.set(poolKey, pool);
      }
      return pools;
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  new Gauge({
    name: 'matchmaking_pool_searching_entries',
    help: 'Searching queue entries per pool (time control) and mode, over every tenant',
    labelNames: ['pool', 'mode'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [poolKey, { size }] of await read()) this.set(poolLabels(poolKey), size);
    },
  });
  new Gauge({
    name: 'matchmaking_pool_oldest_wait_seconds',
    help: 'Longest current wait of a searching entry per pool (time control) and mode (0: empty)',
    labelNames: ['pool', 'mode'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const at = now();
      for (const [poolKey, { oldest }] of await read())
        this.set(poolLabels(poolKey), oldest === null ? 0 : Math.max(0, (at - oldest) / 1000));
    },
  });
}

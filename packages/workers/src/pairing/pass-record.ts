import {
  makePool,
  type PairingPassCompletedData,
  type PairingPassEntry,
  type PairingPassPair,
  parsePoolKey,
  poolStream,
} from '@mm/contracts';
import type { StreamAppend } from '@mm/event-store';
import { ALGORITHM_VERSION, type PairingConfig, type PairingResult, type PoolEntry, ratingWindow } from '@mm/pairing';
import { serviceMetadata, type WorkerContext } from '../context.js';
import { uuidFrom } from '../ids/deterministic-ids.js';
import type { CommitOutcome } from './commit-pair.js';

/** What became of one proposed pair (`PairingPassPair.outcome`). */
export type PairFate =
  | { outcome: 'matched'; matchId: string }
  | { outcome: Exclude<PairingPassPair['outcome'], 'matched'> };

/** The fate of a pair from its commit outcome. */
export const fateOf = (committed: CommitOutcome): PairFate =>
  committed.outcome === 'matched'
    ? { outcome: 'matched', matchId: committed.matchId }
    : committed.outcome === 'stale'
      ? { outcome: 'stale' }
      : { outcome: 'claim_lost' };

/**
 * The id of a pass: tenant, pool, the pass's clock and the pairs it proposed. A job that runs the
 * same pass again (same snapshot, same clock) gets the same id, and since the record is appended
 * with it as its event id, the store keeps one record. Known before the commits, so every
 * `MatchCreated` of the pass carries it (`passId`).
 */
export const pairingPassId = (
  tenantId: string,
  poolKey: string,
  decidedAt: number,
  pairs: PairingResult['pairs'],
): string =>
  uuidFrom('pairing-pass', tenantId, poolKey, decidedAt, ...pairs.map((p) => `${p.a.entryId} ${p.b.entryId}`).sort());

export interface PassRecordInput {
  passId: string;
  poolKey: string;
  /** The clock the pairing ran with (epoch ms). */
  decidedAt: number;
  config: PairingConfig;
  /** The entries given to `pairPool`. */
  entries: readonly PoolEntry[];
  result: PairingResult;
  /** One per `result.pairs`, same order. */
  fates: readonly PairFate[];
}

/**
 * The `PairingPassCompleted` data of a pass: every entry with the window and wait the pairing
 * computed at `decidedAt` (and the cool-down blocks that applied), the settings, the pairs with
 * their fate, total weight and the certificate. Re-running `pairPool` on the entries rebuilt from
 * it (joined at `decidedAt − waitMs`) at `decidedAt` gives the same pairs (`@mm/replay`'s
 * `rerunPass`). Pure.
 */
export function buildPassRecord(input: PassRecordInput): PairingPassCompletedData {
  const { decidedAt, config, result } = input;
  const { timeControl, mode } = parsePoolKey(input.poolKey);
  const cooldownMs = config.rematchCooldownSeconds * 1000;
  const users = cooldownMs > 0 ? new Set(input.entries.map((e) => e.userId)) : null;
  const entries = input.entries.map((entry): PairingPassEntry => {
    const window = ratingWindow(entry, decidedAt, config);
    const range = entry.ratingRange;
    const blocked = users
      ? [
          ...new Set(
            (entry.recentOpponents ?? [])
              .filter((r) => users.has(r.userId) && decidedAt - r.at < cooldownMs)
              .map((r) => r.userId),
          ),
        ].sort()
      : [];
    return {
      entryId: entry.entryId,
      userId: entry.userId,
      rating: entry.rating,
      waitMs: Math.max(0, decidedAt - entry.enqueuedAt),
      window: { low: window.low, high: window.high },
      ...(range && (range.min !== undefined || range.max !== undefined)
        ? {
            ratingRange: {
              ...(range.min !== undefined ? { min: range.min } : {}),
              ...(range.max !== undefined ? { max: range.max } : {}),
            },
          }
        : {}),
      ...(blocked.length > 0 ? { blockedUserIds: blocked } : {}),
    };
  });
  const pairs = result.pairs.map((pair, index): PairingPassPair => {
    const fate = input.fates[index] ?? { outcome: 'deferred' };
    return {
      a: pair.a.entryId,
      b: pair.b.entryId,
      ratingGap: pair.explanation.ratingGap,
      weight: pair.explanation.weight,
      ...fate,
    };
  });
  return {
    passId: input.passId,
    pool: makePool(timeControl, mode),
    decidedAt: new Date(decidedAt).toISOString(),
    config: {
      initialWindow: config.initialWindow,
      wideningStep: config.wideningStep,
      wideningIntervalSeconds: config.wideningIntervalSeconds,
      maxWindow: config.maxWindow,
      rematchCooldownSeconds: config.rematchCooldownSeconds,
    },
    algorithmVersion: result.pairs[0]?.explanation.algorithmVersion ?? ALGORITHM_VERSION,
    entries,
    pairs,
    totalWeight: result.stats.totalWeight,
    certificate: {
      exact: result.stats.exact,
      upperBound: result.stats.upperBound ?? result.stats.totalWeight,
      edges: result.stats.edges,
    },
  };
}

/**
 * Appends the pass's record to `pool-<tenant>:<poolKey>`: one event, id = pass id (a replay of
 * the same pass is recognised by the store and appends nothing). Not validated again here (it
 * would cost as much as pairing a small pool): {@link buildPassRecord} builds it from the typed
 * pass, and the tests read every record back through `parseEvent`.
 */
export async function appendPassRecord(
  ctx: Pick<WorkerContext, 'store'>,
  tenantId: string,
  record: PairingPassCompletedData,
): Promise<void> {
  const { streamName, events } = passRecordAppend(tenantId, record);
  await ctx.store.appendToStream(streamName, events);
}

/** The pass's record as an append to its pool stream (see {@link appendPassRecord}). */
export const passRecordAppend = (tenantId: string, record: PairingPassCompletedData): StreamAppend => ({
  streamName: poolStream(tenantId, record.pool.key),
  events: [
    {
      id: record.passId,
      type: 'PairingPassCompleted',
      schemaVersion: 1,
      data: record,
      metadata: serviceMetadata(tenantId, record.passId),
    },
  ],
});

import { type MatchCreatedData, makePool, parsePoolKey } from '@mm/contracts';
import { assignColours, type Pair } from '@mm/pairing';

export interface PairDecisionInput {
  matchId: string;
  poolKey: string;
  pair: Pair;
  /** When the pass decided (the `now` the pairing ran with). */
  decidedAt: number;
  /** The pass's record (`PairingPassCompleted.passId`), when the pass records itself. */
  passId?: string;
}

const window = (w: { low: number; high: number }) => ({ low: w.low, high: w.high });

/**
 * The `MatchCreated` data of a queue pair: both sides with rating, window and wait at
 * decision time, the pair's weight, the pool, the algorithm version, and the colours with
 * the reason. Everything an auditor needs to re-check I4 without the pool snapshot.
 * Pure: the same pair and match id always give the same decision (colours included).
 */
export function buildQueueMatch(input: PairDecisionInput): MatchCreatedData {
  const { pair, matchId } = input;
  const { timeControl, mode } = parsePoolKey(input.poolKey);
  const colours = assignColours(pair, matchId);
  const sideOf = (entryId: string) => {
    const isA = pair.a.entryId === entryId;
    const entry = isA ? pair.a : pair.b;
    const index = isA ? 0 : 1;
    return {
      userId: entry.userId,
      queueEntryId: entry.entryId,
      rating: entry.rating,
      window: window(pair.explanation.windows[index]),
      waitMs: Math.max(0, Math.round(pair.explanation.waitsMs[index])),
    };
  };
  return {
    matchId,
    source: 'queue',
    pool: makePool(timeControl, mode),
    white: sideOf(colours.white.entryId),
    black: sideOf(colours.black.entryId),
    ratingGap: pair.explanation.ratingGap,
    weight: pair.explanation.weight,
    algorithmVersion: pair.explanation.algorithmVersion,
    colourReason: colours.reason,
    decidedAt: new Date(input.decidedAt).toISOString(),
    ...(input.passId ? { passId: input.passId } : {}),
  };
}

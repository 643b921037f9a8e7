import { z } from 'zod';
import { Pool } from '../pools/pool.js';
import { Id, Instant, Millis, Rating, RatingRange } from './common.js';

/** The pairing settings a pass ran with (`PairingConfig` of `@mm/pairing`). */
export const PairingPassConfig = z
  .object({
    initialWindow: z.number().finite().nonnegative(),
    wideningStep: z.number().finite().nonnegative(),
    wideningIntervalSeconds: z.number().finite().nonnegative(),
    maxWindow: z.number().finite().nonnegative(),
    rematchCooldownSeconds: z.number().finite().nonnegative(),
  })
  .meta({ description: 'The window and cool-down settings the pass paired with.' });
export type PairingPassConfig = z.infer<typeof PairingPassConfig>;

/** One searching entry as the pass saw it. */
export const PairingPassEntry = z
  .object({
    entryId: Id,
    userId: Id,
    rating: Rating,
    /** Time searched at `decidedAt` (the entry joined at `decidedAt − waitMs`). */
    waitMs: Millis,
    /** Acceptable opponent ratings at `decidedAt`, both ends inclusive; empty (nobody) when low > high. */
    window: z.object({ low: Rating, high: Rating }),
    /** The player's own bounds, when they gave any. */
    ratingRange: RatingRange.optional(),
    /** Users of this pool the entry may not meet yet (rematch cool-down), when any. */
    blockedUserIds: z.array(Id).optional(),
  })
  .meta({ description: 'A searching entry the pass considered, with its window and wait at decision time.' });
export type PairingPassEntry = z.infer<typeof PairingPassEntry>;

/** One pair the pass proposed and what became of it. */
export const PairingPassPair = z
  .object({
    /** Entry ids; `a` < `b`. */
    a: Id,
    b: Id,
    ratingGap: z.number().nonnegative(),
    /** The pair's edge weight in this pass. */
    weight: z.number().finite(),
    /**
     * `matched`: committed as `matchId`; `stale`: an entry was no longer searching; `claim_lost`: a
     * cancel, timeout or other match won the race; `deferred`: beyond MATCH_PAIRS_PER_BATCH, left to
     * the next pass; `error`: the commit failed (recovered by the sweep).
     */
    outcome: z.enum(['matched', 'stale', 'claim_lost', 'deferred', 'error']),
    /** The match written, for `matched`. */
    matchId: Id.optional(),
  })
  .refine((p) => p.a !== p.b, { message: 'a pair needs two entries', path: ['b'] })
  .refine((p) => (p.outcome === 'matched') === (p.matchId !== undefined), {
    message: 'matchId is required for matched pairs and only for them',
    path: ['matchId'],
  });
export type PairingPassPair = z.infer<typeof PairingPassPair>;

export const PairingPassCompletedData = z
  .object({
    /** Deterministic id of the pass (tenant, pool, clock and proposed pairs); `MatchCreated.passId` links to it. */
    passId: Id,
    pool: Pool,
    /** The pass's clock: windows and waits are as of this instant (millisecond precision, exact). */
    decidedAt: Instant,
    config: PairingPassConfig,
    /** Version of the pairing algorithm that decided (`MatchCreated.algorithmVersion`). */
    algorithmVersion: z.string().min(1),
    /** Every searching entry the pass paired from (entries timed out by the pass are not in it). */
    entries: z.array(PairingPassEntry).min(2),
    /** The pairs proposed, oldest waiter first. */
    pairs: z.array(PairingPassPair).min(1),
    /** Sum of the proposed pairs' weights: the pass's objective value. */
    totalWeight: z.number().finite(),
    /** The optimality certificate's summary. */
    certificate: z.object({
      /** True when the pairs are a proven maximum-weight matching of the whole pool (LP duality). */
      exact: z.boolean(),
      /** An upper bound on the optimum (equal to totalWeight when exact). */
      upperBound: z.number().finite(),
      /** Allowed pairs the solver considered. */
      edges: z.number().int().nonnegative(),
    }),
  })
  .refine(
    (pass) => {
      const ids = new Set(pass.entries.map((e) => e.entryId));
      return ids.size === pass.entries.length && pass.pairs.every((p) => ids.has(p.a) && ids.has(p.b));
    },
    { message: 'entry ids are unique and every pair names two entries of the pass', path: ['pairs'] },
  )
  .meta({
    description:
      'A pairing pass proposed at least one pair: what it saw (entries with windows and waits, its clock and settings) and what it decided (pairs, their outcome and match ids, total weight, optimality certificate). Enough to re-run the pairing and get the same pairs.',
  });
export type PairingPassCompletedData = z.infer<typeof PairingPassCompletedData>;

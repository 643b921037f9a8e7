import type { PairingPassCompletedData, PairingPassEntry } from '@mm/contracts';
import {
  ALGORITHM_VERSION,
  edgeWeight,
  type PairingResult,
  type PoolEntry,
  pairPool,
  ratingWindow,
  weightScales,
} from '@mm/pairing';

/** A recorded pass, as `PairingPassCompleted` data. */
export type RecordedPass = PairingPassCompletedData;

/** The pairing's input rebuilt from a record: each entry joined `waitMs` before the pass's clock. */
export function passInput(pass: RecordedPass): { entries: PoolEntry[]; now: number } {
  const now = Date.parse(pass.decidedAt);
  const entries = pass.entries.map(
    (e): PoolEntry => ({
      entryId: e.entryId,
      userId: e.userId,
      rating: e.rating,
      enqueuedAt: now - e.waitMs,
      ratingRange: e.ratingRange ?? null,
      // "played just now": blocked for the whole cool-down, exactly what the pass applied
      ...(e.blockedUserIds ? { recentOpponents: e.blockedUserIds.map((userId) => ({ userId, at: now })) } : {}),
    }),
  );
  return { entries, now };
}

export interface PassRerun {
  /**
   * True when the re-run gives the recorded pairs, weights, windows, total and certificate. A pass
   * recorded by another algorithm version is identical when its windows and its pairs' weights
   * follow from the settings, its pairs are allowed, and its total is the optimum's (or, when it
   * was not certified, at most the optimum's): other pairs of equal weight are then notes.
   */
  identical: boolean;
  /** Each difference in words (empty when identical). */
  differences: string[];
  /** Remarks that are not differences (e.g. another algorithm version re-ran the pass). */
  notes: string[];
  result: PairingResult;
}

const pairKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);
const range = (w: { low: number; high: number }) => `[${w.low}, ${w.high}]`;

/**
 * Runs `pairPool` again on a recorded pass's input, at its clock and with its settings, and
 * compares: the pairs (as sets), each pair's weight and gap, the total weight, the certificate,
 * and every entry's window as the pairing computes it now. Pure.
 */
export function rerunPass(pass: RecordedPass): PassRerun {
  const { entries, now } = passInput(pass);
  const result = pairPool(entries, now, pass.config);
  const differences: string[] = [];
  const notes: string[] =
    pass.algorithmVersion === ALGORITHM_VERSION
      ? []
      : [`recorded by pairing ${pass.algorithmVersion}, re-run with ${ALGORITHM_VERSION}`];

  for (const [index, entry] of entries.entries()) {
    const recorded = pass.entries[index]!.window;
    const window = ratingWindow(entry, now, pass.config);
    if (window.low !== recorded.low || window.high !== recorded.high)
      differences.push(
        `entry ${entry.entryId} (${entry.userId}): window recorded ${range(recorded)}, the settings give ${range(window)}`,
      );
  }
  const rerun = new Map(result.pairs.map((p) => [pairKey(p.a.entryId, p.b.entryId), p]));
  const recorded = new Map(pass.pairs.map((p) => [pairKey(p.a, p.b), p]));
  // Another version of the pairing may choose another matching of the same weight (ties) or,
  // where the old one was not exact, a heavier one: the record is then checked for what every
  // version must agree on — each recorded pair allowed and weighed by the settings, and no
  // matching heavier than one the record certified optimal — and the pair differences are notes.
  const sameVersion = pass.algorithmVersion === ALGORITHM_VERSION;
  const pairNotes: string[] = [];
  const pairDifference = (text: string) => (sameVersion ? differences : pairNotes).push(text);
  const scales = weightScales(pass.entries.length, pass.config);
  const byId = new Map(pass.entries.map((e) => [e.entryId, e]));
  for (const [key, pair] of recorded) {
    const again = rerun.get(key);
    if (!again) {
      pairDifference(`pair ${pair.a} + ${pair.b} was recorded; the re-run does not make it`);
      const [a, b] = [byId.get(pair.a), byId.get(pair.b)];
      if (!sameVersion && a && b) {
        const allowed = compatibility(pass, a, b);
        if (!allowed.ok)
          differences.push(`pair ${pair.a} + ${pair.b} was recorded but is not allowed: ${allowed.reason}`);
        const weight = edgeWeight(scales, a.waitMs, b.waitMs, Math.abs(a.rating - b.rating));
        if (weight !== pair.weight)
          differences.push(`pair ${pair.a} + ${pair.b}: weight recorded ${pair.weight}, the settings give ${weight}`);
      }
      continue;
    }
    if (again.explanation.weight !== pair.weight)
      differences.push(
        `pair ${pair.a} + ${pair.b}: weight recorded ${pair.weight}, re-run ${again.explanation.weight}`,
      );
    if (again.explanation.ratingGap !== pair.ratingGap)
      differences.push(
        `pair ${pair.a} + ${pair.b}: rating gap recorded ${pair.ratingGap}, re-run ${again.explanation.ratingGap}`,
      );
  }
  for (const [key, pair] of rerun)
    if (!recorded.has(key))
      pairDifference(`pair ${pair.a.entryId} + ${pair.b.entryId} is made by the re-run; it was not recorded`);
  const total = result.stats.totalWeight;
  const bound = result.stats.upperBound ?? total;
  if (sameVersion) {
    if (total !== pass.totalWeight) differences.push(`total weight recorded ${pass.totalWeight}, re-run ${total}`);
    if (result.stats.exact !== pass.certificate.exact)
      differences.push(`certificate: recorded exact=${pass.certificate.exact}, re-run exact=${result.stats.exact}`);
    if (bound !== pass.certificate.upperBound)
      differences.push(`certificate: upper bound recorded ${pass.certificate.upperBound}, re-run ${bound}`);
  } else {
    if (result.stats.exact && total < pass.totalWeight)
      differences.push(
        `total weight recorded ${pass.totalWeight} is more than the optimum ${total}: no matching of this input weighs that much`,
      );
    else if (total > pass.totalWeight && pass.certificate.exact)
      differences.push(
        `recorded as optimal with total weight ${pass.totalWeight}, but the re-run finds ${total} (certified ${result.stats.exact ? 'optimal' : 'not optimal'})`,
      );
    else if (total !== pass.totalWeight)
      notes.push(`total weight recorded ${pass.totalWeight} (not certified optimal), re-run ${total}`);
    if (pairNotes.length > 0)
      notes.push(
        `the re-run chose other pairs of ${total === pass.totalWeight ? 'the same' : 'a heavier'} total weight: ${pairNotes.join('; ')}`,
      );
  }
  return { identical: differences.length === 0, differences, notes, result };
}

/** Whether two entries of a pass could be paired, and if not, why (as the pairing decides it). */
export function compatibility(
  pass: RecordedPass,
  x: PairingPassEntry,
  y: PairingPassEntry,
): { ok: true } | { ok: false; reason: string } {
  if (x.userId === y.userId) return { ok: false, reason: 'same user' };
  if (y.rating < x.window.low || y.rating > x.window.high)
    return { ok: false, reason: `${y.userId} (${y.rating}) is outside ${x.userId}'s window ${range(x.window)}` };
  if (x.rating < y.window.low || x.rating > y.window.high)
    return { ok: false, reason: `${x.userId} (${x.rating}) is outside ${y.userId}'s window ${range(y.window)}` };
  if (x.blockedUserIds?.includes(y.userId) || y.blockedUserIds?.includes(x.userId))
    return {
      ok: false,
      reason: `they played each other less than ${pass.config.rematchCooldownSeconds} s before (rematch cool-down)`,
    };
  return { ok: true };
}

/** Pairs, matched wait (whole seconds) and total gap of a matching — the objective, in its three parts. */
export interface MatchingSummary {
  pairs: number;
  totalWeight: number;
  waitSeconds: number;
  totalGap: number;
}

/**
 * The best matching of the pass in which `x` is paired with `y` (both compatible), weighed
 * with the pass's scales: `w(x, y)` plus the optimum of everyone else.
 */
export function bestWith(pass: RecordedPass, x: PairingPassEntry, y: PairingPassEntry): MatchingSummary {
  const { entries, now } = passInput(pass);
  const scales = weightScales(entries.length, pass.config);
  const waits = new Map(pass.entries.map((e) => [e.entryId, e.waitMs]));
  const rest = pairPool(
    entries.filter((e) => e.entryId !== x.entryId && e.entryId !== y.entryId),
    now,
    pass.config,
  );
  const summary: MatchingSummary = { pairs: 0, totalWeight: 0, waitSeconds: 0, totalGap: 0 };
  const add = (a: { entryId: string; rating: number }, b: { entryId: string; rating: number }) => {
    const [wa, wb] = [waits.get(a.entryId)!, waits.get(b.entryId)!];
    summary.pairs++;
    summary.totalWeight += edgeWeight(scales, wa, wb, Math.abs(a.rating - b.rating));
    summary.waitSeconds +=
      Math.min(scales.waitCapSeconds, Math.floor(wa / 1000)) + Math.min(scales.waitCapSeconds, Math.floor(wb / 1000));
    summary.totalGap += Math.abs(a.rating - b.rating);
  };
  add(x, y);
  for (const p of rest.pairs) add(p.a, p.b);
  return summary;
}

/** The recorded matching's summary, with the same scales. */
export function recordedSummary(pass: RecordedPass): MatchingSummary {
  const byId = new Map(pass.entries.map((e) => [e.entryId, e]));
  const scales = weightScales(pass.entries.length, pass.config);
  const summary: MatchingSummary = { pairs: 0, totalWeight: 0, waitSeconds: 0, totalGap: 0 };
  for (const p of pass.pairs) {
    const [a, b] = [byId.get(p.a)!, byId.get(p.b)!];
    summary.pairs++;
    summary.totalWeight += edgeWeight(scales, a.waitMs, b.waitMs, Math.abs(a.rating - b.rating));
    summary.waitSeconds +=
      Math.min(scales.waitCapSeconds, Math.floor(a.waitMs / 1000)) +
      Math.min(scales.waitCapSeconds, Math.floor(b.waitMs / 1000));
    summary.totalGap += Math.abs(a.rating - b.rating);
  }
  return summary;
}

import { type MatchCreatedData, matchStream, type PairingPassEntry, parseEvent, poolStream } from '@mm/contracts';
import type { EventStore, RecordedEvent } from '@mm/event-store';
import { ReplayInputError } from '../errors.js';
import {
  bestWith,
  compatibility,
  type MatchingSummary,
  type RecordedPass,
  recordedSummary,
  rerunPass,
} from './pass-rerun.js';

/** A pass record as read from the log. */
export interface StoredPass {
  pass: RecordedPass;
  position: number;
  stream: string;
}

export interface CandidateVerdict {
  entryId: string;
  userId: string;
  rating: number;
  waitMs: number;
  window: { low: number; high: number };
  /** What the pass did with this entry. */
  pairedWith: string | null;
  /** Against each side of the match (white's user, then black's): why it was not that side's opponent. */
  against: { userId: string; reason: string }[];
}

export interface MatchExplanation {
  matchId: string;
  tenantId: string;
  source: 'queue' | 'challenge';
  pool: string;
  decidedAt: string;
  position: number;
  sides: {
    colour: 'white' | 'black';
    userId: string;
    queueEntryId: string | null;
    rating: number;
    window: { low: number; high: number } | null;
    waitMs: number;
  }[];
  ratingGap: number;
  weight: number | null;
  algorithmVersion: string | null;
  colourReason: string;
  /** The pass that decided it; null when none is recorded. */
  pass: {
    passId: string;
    position: number;
    entries: number;
    pairs: number;
    totalWeight: number;
    certificate: RecordedPass['certificate'];
    config: RecordedPass['config'];
  } | null;
  /** The other entries of the pass (nearest in rating first, at most {@link CANDIDATE_LIMIT}). */
  candidates: CandidateVerdict[];
  /** Entries of the pass not listed in `candidates`. */
  moreCandidates: number;
  /**
   * `identical`: the re-run of the recorded pass gives the same pairs (and the match agrees with
   * its record); `different`: it does not (`differences`); `not_possible`: nothing to re-run (a
   * challenge match, a match decided before passes were recorded, or a record that was lost).
   */
  rerun: { status: 'identical' | 'different' | 'not_possible'; differences: string[]; notes: string[] };
  ms: number;
}

/** Other entries of the pass explained one by one (beyond: counted). */
export const CANDIDATE_LIMIT = 10;

/** How far apart in time passes of one pool may be appended out of their clock's order. */
const CLOCK_SLACK_MS = 60_000;

const decidedAtOf = (event: RecordedEvent) => Date.parse((event.data as { decidedAt: string }).decidedAt);

/**
 * Finds a pass's record on its pool stream by its id: a binary search on the records' clocks
 * (a pool's passes are appended in clock order, give or take concurrent passes: a minute of
 * slack), then a forward read. O(log n) reads of one event for a stream of n passes.
 */
export async function findPassRecord(
  store: EventStore,
  tenantId: string,
  poolKey: string,
  passId: string,
  decidedAt: number,
): Promise<StoredPass | null> {
  const stream = poolStream(tenantId, poolKey);
  const last = await store.streamRevision(stream);
  if (last === 'no_stream') return null;
  let lo = 0;
  let hi = last + 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const [event] = await store.readStream(stream, { fromRevision: mid, maxCount: 1 });
    if (event && decidedAtOf(event) < decidedAt - CLOCK_SLACK_MS) lo = mid + 1;
    else hi = mid;
  }
  for (let from = lo; from <= last; ) {
    const page = await store.readStream(stream, { fromRevision: from, maxCount: 50 });
    if (page.length === 0) break;
    for (const event of page) {
      if (event.type === 'PairingPassCompleted' && event.id === passId) {
        const { data } = parseEvent('PairingPassCompleted', event.schemaVersion, event.data);
        return { pass: data, position: event.position, stream };
      }
      if (decidedAtOf(event) > decidedAt + CLOCK_SLACK_MS) return null;
    }
    from = page.at(-1)!.revision + 1;
  }
  return null;
}

/** Differences between a match and the record of the pass that claims to have decided it. */
export function matchAgainstPass(match: MatchCreatedData, pass: RecordedPass): string[] {
  const differences: string[] = [];
  const pair = pass.pairs.find((p) => p.matchId === match.matchId);
  if (!pair) return [`the pass record does not list match ${match.matchId}`];
  const entries = new Map(pass.entries.map((e) => [e.entryId, e]));
  for (const [colour, side] of [
    ['white', match.white],
    ['black', match.black],
  ] as const) {
    const entry = side.queueEntryId ? entries.get(side.queueEntryId) : undefined;
    if (!entry || (side.queueEntryId !== pair.a && side.queueEntryId !== pair.b)) {
      differences.push(`${colour} (${side.userId}, entry ${side.queueEntryId}) is not in the recorded pair`);
      continue;
    }
    if (entry.userId !== side.userId)
      differences.push(`${colour}: user ${side.userId} in the match, ${entry.userId} in the pass`);
    if (entry.rating !== side.rating)
      differences.push(`${colour} (${side.userId}): rating ${side.rating} in the match, ${entry.rating} in the pass`);
    if (entry.waitMs !== side.waitMs)
      differences.push(
        `${colour} (${side.userId}): wait ${side.waitMs} ms in the match, ${entry.waitMs} ms in the pass`,
      );
    if (!side.window || side.window.low !== entry.window.low || side.window.high !== entry.window.high)
      differences.push(
        `${colour} (${side.userId}): window ${JSON.stringify(side.window)} in the match, ${JSON.stringify(entry.window)} in the pass`,
      );
  }
  if (Date.parse(match.decidedAt) !== Date.parse(pass.decidedAt))
    differences.push(`decided at ${match.decidedAt} in the match, ${pass.decidedAt} in the pass`);
  if (match.weight !== pair.weight) differences.push(`weight ${match.weight} in the match, ${pair.weight} in the pass`);
  if (match.ratingGap !== pair.ratingGap)
    differences.push(`rating gap ${match.ratingGap} in the match, ${pair.ratingGap} in the pass`);
  return differences;
}

const lossReason = (chosen: MatchingSummary, alternative: MatchingSummary): string => {
  if (alternative.pairs < chosen.pairs)
    return `pairing them leaves ${chosen.pairs - alternative.pairs} pair(s) fewer in the pool (${alternative.pairs} instead of ${chosen.pairs})`;
  if (alternative.waitSeconds < chosen.waitSeconds)
    return `pairing them leaves longer waiters unpaired (${alternative.waitSeconds} s of matched wait instead of ${chosen.waitSeconds} s)`;
  if (alternative.totalWeight < chosen.totalWeight)
    return `pairing them makes the total rating gap larger (${alternative.totalGap} instead of ${chosen.totalGap})`;
  return `an equally good pairing (total weight ${alternative.totalWeight}); the tie is broken by the solver's order`;
};

/** Why each other entry of the pass did not get either side of the match. */
function candidatesOf(pass: RecordedPass, sides: PairingPassEntry[]): { list: CandidateVerdict[]; more: number } {
  const inMatch = new Set(sides.map((s) => s.entryId));
  const mate = new Map<string, string>();
  for (const p of pass.pairs) {
    mate.set(p.a, p.b);
    mate.set(p.b, p.a);
  }
  const users = new Map(pass.entries.map((e) => [e.entryId, e.userId]));
  const centre = (sides[0]!.rating + sides[1]!.rating) / 2;
  const others = pass.entries
    .filter((e) => !inMatch.has(e.entryId))
    .sort((x, y) => Math.abs(x.rating - centre) - Math.abs(y.rating - centre) || (x.entryId < y.entryId ? -1 : 1));
  const chosen = recordedSummary(pass);
  const list = others.slice(0, CANDIDATE_LIMIT).map((other): CandidateVerdict => {
    const partner = mate.get(other.entryId);
    return {
      entryId: other.entryId,
      userId: other.userId,
      rating: other.rating,
      waitMs: other.waitMs,
      window: other.window,
      pairedWith: partner ? (users.get(partner) ?? partner) : null,
      against: sides.map((side) => {
        const allowed = compatibility(pass, side, other);
        return {
          userId: side.userId,
          reason: allowed.ok ? lossReason(chosen, bestWith(pass, side, other)) : allowed.reason,
        };
      }),
    };
  });
  return { list, more: others.length - list.length };
}

/**
 * Explains one match from the log: its `MatchCreated`, and the record of the pass that decided
 * it (`MatchCreated.passId` → `PairingPassCompleted` on the pool stream) — the other entries the
 * pass had and why they lost — then re-runs the pairing on the recorded input. Throws
 * {@link ReplayInputError} for a match id the log does not have.
 */
export async function explainMatch(store: EventStore, matchId: string): Promise<MatchExplanation> {
  const started = performance.now();
  const events = await store.readStream(matchStream(matchId), { maxCount: 1 });
  const created = events.find((e) => e.type === 'MatchCreated');
  if (!created)
    throw new ReplayInputError(
      `no match ${matchId} in the log`,
      "give the match id of a MatchCreated (mm history player <tenant> <user> lists a player's matches)",
    );
  const { data: match } = parseEvent('MatchCreated', created.schemaVersion, created.data);
  const tenantId = created.metadata.tenantId;
  const base = {
    matchId,
    tenantId,
    source: match.source,
    pool: match.pool.key,
    decidedAt: match.decidedAt,
    position: created.position,
    sides: (['white', 'black'] as const).map((colour) => ({ colour, ...match[colour] })),
    ratingGap: match.ratingGap,
    weight: match.weight,
    algorithmVersion: match.algorithmVersion,
    colourReason: match.colourReason,
  };
  const without = (note: string): MatchExplanation => ({
    ...base,
    pass: null,
    candidates: [],
    moreCandidates: 0,
    rerun: { status: 'not_possible', differences: [], notes: [note] },
    ms: Math.round(performance.now() - started),
  });
  if (match.source === 'challenge') return without('a challenge match: no pairing pass decided it');
  if (!match.passId)
    return without(
      'decided before pairing passes were recorded: explained from MatchCreated alone, the pass cannot be re-run',
    );
  const stored = await findPassRecord(store, tenantId, match.pool.key, match.passId, Date.parse(match.decidedAt));
  if (!stored)
    return without(
      `the record of pass ${match.passId} is not in the log (the worker stopped between the commit and the record): the pass cannot be re-run`,
    );
  const { pass } = stored;
  const entries = new Map(pass.entries.map((e) => [e.entryId, e]));
  const rerun = rerunPass(pass);
  const differences = [...matchAgainstPass(match, pass), ...rerun.differences];
  const sides = [match.white, match.black]
    .map((side) => (side.queueEntryId ? entries.get(side.queueEntryId) : undefined))
    .filter((e): e is PairingPassEntry => e !== undefined);
  const candidates = sides.length === 2 ? candidatesOf(pass, sides) : { list: [], more: 0 };
  return {
    ...base,
    pass: {
      passId: pass.passId,
      position: stored.position,
      entries: pass.entries.length,
      pairs: pass.pairs.length,
      totalWeight: pass.totalWeight,
      certificate: pass.certificate,
      config: pass.config,
    },
    candidates: candidates.list,
    moreCandidates: candidates.more,
    rerun: { status: differences.length === 0 ? 'identical' : 'different', differences, notes: rerun.notes },
    ms: Math.round(performance.now() - started),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const win = (w: { low: number; high: number } | null) => (w ? `[${w.low}, ${w.high}]` : '—');

type Side = MatchExplanation['sides'][number];
const inside = (who: Side, whose: Side) =>
  whose.window && who.rating >= whose.window.low && who.rating <= whose.window.high
    ? `${who.userId} is inside ${whose.userId}'s window`
    : `${who.userId} is NOT inside ${whose.userId}'s window`;

/** The explanation in words. */
export function formatMatchExplanation(x: MatchExplanation): string {
  const [white, black] = x.sides as [Side, Side];
  const lines = [
    `match ${x.matchId} (${x.source}, tenant ${x.tenantId}, pool ${x.pool}), decided ${x.decidedAt} — log position ${x.position}`,
    ...x.sides.map(
      (s) =>
        `  ${s.colour.padEnd(5)}  ${s.userId} (entry ${s.queueEntryId ?? '—'}): rating ${s.rating}, window ${win(s.window)}, waited ${seconds(s.waitMs)}`,
    ),
    `  rating gap ${x.ratingGap}: ${inside(black, white)}, ${inside(white, black)}`,
    `  weight ${x.weight ?? '—'}, pairing ${x.algorithmVersion ?? '—'}; colours: ${x.colourReason}`,
  ];
  if (x.pass) {
    const c = x.pass.config;
    lines.push(
      '',
      `pass ${x.pass.passId} (log position ${x.pass.position}): ${x.pass.entries} searching entries, ${x.pass.pairs} pair(s), total weight ${x.pass.totalWeight}`,
      `  ${x.pass.certificate.exact ? 'proven optimal' : 'not proven optimal'} (upper bound ${x.pass.certificate.upperBound}, ${x.pass.certificate.edges} allowed pairs); windows ${c.initialWindow} + ${c.wideningStep} per ${c.wideningIntervalSeconds} s up to ${c.maxWindow}${c.rematchCooldownSeconds > 0 ? `, rematch cool-down ${c.rematchCooldownSeconds} s` : ''}`,
    );
    if (x.candidates.length > 0) lines.push('  the other candidates:');
    for (const c of x.candidates) {
      lines.push(
        `    ${c.userId} (rating ${c.rating}, window ${win(c.window)}, waited ${seconds(c.waitMs)}) — ${c.pairedWith ? `paired with ${c.pairedWith}` : 'left unpaired'}`,
      );
      for (const a of c.against) lines.push(`      not ${a.userId}'s: ${a.reason}`);
    }
    if (x.moreCandidates > 0) lines.push(`    … and ${x.moreCandidates} more entries further away in rating`);
    if (x.candidates.length === 0) lines.push('  nobody else was searching in the pool');
  }
  lines.push('');
  for (const note of x.rerun.notes) lines.push(`note: ${note}`);
  if (x.rerun.status === 'identical')
    lines.push('RE-RUN: identical — the pairing makes the same pairs from the recorded input');
  else if (x.rerun.status === 'different') {
    lines.push(`RE-RUN: DIFFERENT — ${x.rerun.differences.length} difference(s):`);
    for (const d of x.rerun.differences) lines.push(`  ${d}`);
  } else lines.push('RE-RUN: not possible');
  return lines.join('\n');
}

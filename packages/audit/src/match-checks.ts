import { type EntryState, key, type MatchState, type ViolationLog } from './state.js';
import type { AuditOptions, WindowPolicy } from './types.js';

export interface MatchCheckContext {
  /** The entry as the log has it so far (open or settled). */
  entry: (tenantId: string, queueEntryId: string) => EntryState | undefined;
  /** The tenant of an entry with this id in any tenant (for `CROSS_TENANT_MATCH`). */
  tenantOfEntry: (queueEntryId: string) => string | undefined;
  challenges: Map<string, { challengerId: string; opponentId: string; poolKey: string }>;
  violations: ViolationLog;
  options: AuditOptions;
}

/** Wait-based half-width, computed here independently of @mm/pairing (an auditor should not share the code it audits). */
export function allowedHalfWidth(waitMs: number, policy: WindowPolicy): number {
  const intervalMs = policy.wideningIntervalSeconds * 1000;
  const steps = intervalMs > 0 && policy.wideningStep > 0 ? Math.floor(Math.max(0, waitMs) / intervalMs) : 0;
  return Math.max(0, Math.min(policy.maxWindow, policy.initialWindow + steps * policy.wideningStep));
}

/**
 * I4 (and the I2/I3 side of the decision): re-checks one `MatchCreated` against the
 * entries as the log had them when the match was decided.
 */
// biome-ignore lint/suspicious/noExplicitAny: raw event data is read defensively
export function checkMatchDecision(match: MatchState, data: any, ctx: MatchCheckContext): void {
  const { violations, options } = ctx;
  const eps = options.epsilon ?? 1e-9;
  const { tenantId, matchId } = match;
  const add = (
    code: string,
    detail: string,
    extra: { userId?: string; queueEntryId?: string } = {},
    invariant: 'I2' | 'I3' | 'I4' = 'I4',
  ) => violations.add({ invariant, code, detail: `match ${matchId}: ${detail}`, tenantId, matchId, ...extra });

  if (match.white.userId === match.black.userId)
    add('SAME_USER_TWICE', `pairs user ${match.white.userId} with themself`);

  if (match.source === 'challenge') {
    const challenge = match.challengeId ? ctx.challenges.get(key(tenantId, match.challengeId)) : undefined;
    if (!challenge) return;
    const users = new Set([match.white.userId, match.black.userId]);
    if (!users.has(challenge.challengerId) || !users.has(challenge.opponentId))
      add('CHALLENGE_PLAYERS_MISMATCH', `players are not challenge ${match.challengeId}'s challenger and opponent`);
    if (challenge.poolKey !== match.poolKey)
      add('POOL_MISMATCH', `pool ${match.poolKey} differs from challenge ${match.challengeId}'s ${challenge.poolKey}`);
    return;
  }

  const decidedAt = typeof data.decidedAt === 'string' ? Date.parse(data.decidedAt) : Number.NaN;
  const sides = [
    { side: match.white, other: match.black, colour: 'white' },
    { side: match.black, other: match.white, colour: 'black' },
  ];
  if (match.white.queueEntryId !== null && match.white.queueEntryId === match.black.queueEntryId)
    add('SAME_ENTRY_TWICE', `both sides are entry ${match.white.queueEntryId}`);

  for (const { side, other, colour } of sides) {
    const who = { userId: side.userId, ...(side.queueEntryId ? { queueEntryId: side.queueEntryId } : {}) };
    if (!side.queueEntryId) {
      add('MISSING_QUEUE_ENTRY', `${colour} has no queue entry in a queue match`, who);
      continue;
    }
    const entry = ctx.entry(tenantId, side.queueEntryId);
    if (!entry) {
      const elsewhere = ctx.tenantOfEntry(side.queueEntryId);
      add(
        elsewhere !== undefined ? 'CROSS_TENANT_MATCH' : 'UNKNOWN_QUEUE_ENTRY',
        elsewhere !== undefined
          ? `${colour} entry ${side.queueEntryId} belongs to tenant ${elsewhere}, the match to ${tenantId}`
          : `${colour} entry ${side.queueEntryId} never joined the queue`,
        who,
      );
      continue;
    }
    if (entry.userId !== side.userId)
      add(
        'ENTRY_USER_MISMATCH',
        `${colour} entry ${entry.queueEntryId} belongs to ${entry.userId}, not ${side.userId}`,
        who,
      );
    if (entry.poolKey !== match.poolKey)
      add('POOL_MISMATCH', `${colour} entry searched in pool ${entry.poolKey}, the match is in ${match.poolKey}`, who);
    if (!(Math.abs(entry.rating - side.rating) <= eps))
      add('RATING_MISMATCH', `${colour} rating ${side.rating} differs from the entry's ${entry.rating}`, who);

    if (entry.status === 'cancelled' || entry.status === 'timed_out')
      add(
        'MATCH_OF_ENDED_ENTRY',
        `${colour} entry ${entry.queueEntryId} was ${entry.status} before the match`,
        who,
        'I3',
      );
    else if (entry.status !== 'searching' && entry.matchId !== matchId)
      add(
        'ENTRY_IN_TWO_MATCHES',
        `${colour} entry ${entry.queueEntryId} is ${entry.status} by match ${entry.matchId}`,
        who,
        'I2',
      );

    const window = side.window;
    if (!window || typeof window.low !== 'number' || typeof window.high !== 'number') {
      add('MISSING_WINDOW', `${colour} has no recorded rating window`, who);
      continue;
    }
    if (!(other.rating >= window.low - eps && other.rating <= window.high + eps))
      add(
        'OUTSIDE_WINDOW',
        `opponent rating ${other.rating} is outside ${colour}'s window [${window.low}, ${window.high}]`,
        who,
      );
    const range = entry.ratingRange;
    if (range && typeof range.min === 'number' && window.low < range.min - eps)
      add(
        'WINDOW_BEYOND_RANGE',
        `${colour}'s window starts at ${window.low}, below the player's minimum ${range.min}`,
        who,
      );
    if (range && typeof range.max === 'number' && window.high > range.max + eps)
      add(
        'WINDOW_BEYOND_RANGE',
        `${colour}'s window ends at ${window.high}, above the player's maximum ${range.max}`,
        who,
      );
    if (options.windowPolicy && Number.isFinite(decidedAt) && Number.isFinite(entry.enqueuedAt)) {
      const policy =
        typeof options.windowPolicy === 'function' ? options.windowPolicy(entry.poolKey) : options.windowPolicy;
      const halfWidth = allowedHalfWidth(decidedAt - entry.enqueuedAt + (options.clockSkewMs ?? 1000), policy);
      if (window.low < entry.rating - halfWidth - eps || window.high > entry.rating + halfWidth + eps)
        add(
          'WINDOW_TOO_WIDE',
          `${colour}'s window [${window.low}, ${window.high}] is wider than rating ${entry.rating} ± ${halfWidth} allowed after ${Math.round((decidedAt - entry.enqueuedAt) / 1000)} s`,
          who,
        );
    }
  }
}

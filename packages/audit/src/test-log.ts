import type { RecordedEvent } from '@mm/event-store';

/** Hand-written event logs for the audit's tests: each call appends one event in position order. */
export class TestLog {
  readonly events: RecordedEvent[] = [];
  private clock = Date.parse('2026-01-01T10:00:00.000Z');
  private readonly revisions = new Map<string, number>();

  constructor(readonly tenantId = 't1') {}

  /** Advances the log's clock. */
  wait(ms: number): this {
    this.clock += ms;
    return this;
  }

  now(): string {
    return new Date(this.clock).toISOString();
  }

  append(streamName: string, type: string, data: Record<string, unknown>, tenantId = this.tenantId): this {
    const revision = (this.revisions.get(streamName) ?? -1) + 1;
    this.revisions.set(streamName, revision);
    const position = this.events.length * 10 + 1;
    this.events.push({
      id: `ev-${position}`,
      streamName,
      revision,
      position,
      type,
      schemaVersion: 1,
      // biome-ignore lint/suspicious/noExplicitAny: test data
      data: data as any,
      metadata: { tenantId, correlationId: 'c', causationId: null, actor: { type: 'service', id: 'test' } },
      recordedAt: new Date(this.clock),
    });
    this.clock += 1;
    return this;
  }

  join(
    user: string,
    entry: string,
    options: { rating?: number; pool?: string; range?: object; tenantId?: string } = {},
  ) {
    const [timeControl, mode] = (options.pool ?? '3+0:rated').split(':');
    return this.append(
      `player-${options.tenantId ?? this.tenantId}:${user}`,
      'QueueJoined',
      {
        userId: user,
        queueEntryId: entry,
        pool: { key: `${timeControl}:${mode}`, timeControl, mode },
        rating: options.rating ?? 1500,
        ratingSource: 'default',
        ratingRange: options.range ?? null,
        enqueuedAt: this.now(),
      },
      options.tenantId,
    );
  }

  cancel(user: string, entry: string, reason: 'user' | 'challenge_accepted' = 'user') {
    return this.append(`player-${this.tenantId}:${user}`, 'QueueCancelled', {
      userId: user,
      queueEntryId: entry,
      reason,
      cancelledAt: this.now(),
    });
  }

  timeOut(user: string, entry: string) {
    return this.append(`player-${this.tenantId}:${user}`, 'QueueTimedOut', {
      userId: user,
      queueEntryId: entry,
      waitedMs: 600_000,
      timedOutAt: this.now(),
    });
  }

  claim(user: string, entry: string, matchId: string, opponent: { user: string; entry: string; rating?: number }) {
    return this.append(`player-${this.tenantId}:${user}`, 'QueueEntryMatched', {
      userId: user,
      queueEntryId: entry,
      matchId,
      opponent: { userId: opponent.user, queueEntryId: opponent.entry, rating: opponent.rating ?? 1500 },
      matchedAt: this.now(),
    });
  }

  release(
    user: string,
    entry: string,
    matchId: string,
    reason: 'opponent_unavailable' | 'match_aborted' = 'match_aborted',
  ) {
    return this.append(`player-${this.tenantId}:${user}`, 'QueueEntryReleased', {
      userId: user,
      queueEntryId: entry,
      matchId,
      reason,
      releasedAt: this.now(),
    });
  }

  matchCreated(
    matchId: string,
    white: Side,
    black: Side,
    options: { pool?: string; tenantId?: string; source?: 'queue' | 'challenge'; challengeId?: string } = {},
  ) {
    const [timeControl, mode] = (options.pool ?? '3+0:rated').split(':');
    const side = (s: Side) => ({
      userId: s.user,
      queueEntryId: s.entry === undefined ? null : s.entry,
      rating: s.rating ?? 1500,
      window: s.window === undefined ? { low: (s.rating ?? 1500) - 100, high: (s.rating ?? 1500) + 100 } : s.window,
      waitMs: 0,
    });
    const w = side(white);
    const b = side(black);
    return this.append(
      `match-${matchId}`,
      'MatchCreated',
      {
        matchId,
        source: options.source ?? 'queue',
        ...(options.challengeId ? { challengeId: options.challengeId } : {}),
        pool: { key: `${timeControl}:${mode}`, timeControl, mode },
        white: w,
        black: b,
        ratingGap: Math.abs(w.rating - b.rating),
        weight: 1,
        algorithmVersion: 'test',
        colourReason: 'random',
        decidedAt: this.now(),
      },
      options.tenantId,
    );
  }

  gameCreated(matchId: string, gameId: string) {
    return this.append(`match-${matchId}`, 'GameCreated', { matchId, gameId, createdAt: this.now() });
  }

  aborted(
    matchId: string,
    reason: 'game_creation_failed' | 'game_creation_rejected' | 'player_unavailable' = 'game_creation_failed',
  ) {
    return this.append(`match-${matchId}`, 'MatchAborted', {
      matchId,
      reason,
      attempts: 6,
      detail: null,
      abortedAt: this.now(),
    });
  }

  gameStarted(user: string, entry: string | null, matchId: string, gameId: string, colour: 'white' | 'black') {
    return this.append(`player-${this.tenantId}:${user}`, 'QueueEntryGameStarted', {
      userId: user,
      queueEntryId: entry,
      matchId,
      gameId,
      colour,
      startedAt: this.now(),
    });
  }

  /** The whole happy path of a queue match between two fresh players (join … game started). */
  pairAndPlay(a: string, b: string, matchId: string, options: { ratingA?: number; ratingB?: number } = {}) {
    const ra = options.ratingA ?? 1500;
    const rb = options.ratingB ?? 1500;
    return this.join(a, `e-${a}-${matchId}`, { rating: ra })
      .join(b, `e-${b}-${matchId}`, { rating: rb })
      .claimAndPlay(a, `e-${a}-${matchId}`, ra, b, `e-${b}-${matchId}`, rb, matchId);
  }

  /** Claims two searching entries, creates the match and its game, records the starts. */
  claimAndPlay(a: string, ea: string, ra: number, b: string, eb: string, rb: number, matchId: string) {
    return this.claim(a, ea, matchId, { user: b, entry: eb, rating: rb })
      .claim(b, eb, matchId, { user: a, entry: ea, rating: ra })
      .matchCreated(matchId, { user: a, entry: ea, rating: ra }, { user: b, entry: eb, rating: rb })
      .gameCreated(matchId, `g-${matchId}`)
      .gameStarted(a, ea, matchId, `g-${matchId}`, 'white')
      .gameStarted(b, eb, matchId, `g-${matchId}`, 'black');
  }
}

export interface Side {
  user: string;
  entry?: string | null;
  rating?: number;
  window?: { low: number; high: number } | null;
}

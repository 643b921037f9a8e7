import { describe, expect, it } from 'vitest';
import { auditLog } from './audit-log.js';
import { compatibleSearchingPairs } from './liveness.js';
import { formatReport } from './report.js';
import { TestLog } from './test-log.js';
import type { AuditOptions, Violation } from './types.js';

const codes = (log: TestLog, options: AuditOptions = { settled: true }) =>
  auditLog(log.events, options).violations.map((v) => `${v.invariant}:${v.code}`);
const only = (log: TestLog, options: AuditOptions = { settled: true }): Violation[] =>
  auditLog(log.events, options).violations;

/** A correct history touching every flow: match, abort + release + rematch, cancel, timeout, challenge. */
function correctLog(): TestLog {
  const log = new TestLog();
  log.pairAndPlay('alice', 'bob', 'm1', { ratingA: 1500, ratingB: 1580 });
  // abort: both released with their entries, then matched again
  log.join('carol', 'e-c').join('dave', 'e-d', { rating: 1520 });
  log.claim('carol', 'e-c', 'm2', { user: 'dave', entry: 'e-d', rating: 1520 });
  log.claim('dave', 'e-d', 'm2', { user: 'carol', entry: 'e-c' });
  log.matchCreated('m2', { user: 'carol', entry: 'e-c' }, { user: 'dave', entry: 'e-d', rating: 1520 });
  log.aborted('m2').release('carol', 'e-c', 'm2').release('dave', 'e-d', 'm2');
  log.claimAndPlay('carol', 'e-c', 1500, 'dave', 'e-d', 1520, 'm3');
  // a second claim failed: the first was released, no MatchCreated
  log.join('erin', 'e-e').join('frank', 'e-f');
  log.claim('erin', 'e-e', 'm4', { user: 'frank', entry: 'e-f' }).cancel('frank', 'e-f');
  log.release('erin', 'e-e', 'm4', 'opponent_unavailable').timeOut('erin', 'e-e');
  // the same players play again later with new entries
  log.pairAndPlay('alice', 'bob', 'm5');
  // a challenge match
  log.append('challenge-c1', 'ChallengeIssued', {
    challengeId: 'c1',
    challengerId: 'gina',
    opponentId: 'hank',
    timeControl: '5+3',
    mode: 'casual',
    colour: 'white',
    message: null,
    issuedAt: log.now(),
    expiresAt: log.now(),
  });
  log.join('hank', 'e-h', { pool: '3+0:rated' });
  for (const [user, role, held] of [
    ['gina', 'challenger', null],
    ['hank', 'opponent', 'e-h'],
  ] as const)
    log.append(`player-t1:${user}`, 'ChallengeMatchClaimed', {
      userId: user,
      challengeId: 'c1',
      matchId: 'c1',
      role,
      opponentId: user === 'gina' ? 'hank' : 'gina',
      heldQueueEntryId: held,
      claimedAt: log.now(),
    });
  log.matchCreated(
    'c1',
    { user: 'gina', entry: null, window: null },
    { user: 'hank', entry: null, window: null },
    { pool: '5+3:casual', source: 'challenge', challengeId: 'c1' },
  );
  log.cancel('hank', 'e-h', 'challenge_accepted');
  log
    .gameCreated('c1', 'g-c1')
    .gameStarted('gina', null, 'c1', 'g-c1', 'white')
    .gameStarted('hank', null, 'c1', 'g-c1', 'black');
  // still searching at the end: fine when nobody compatible waits
  log.join('ivan', 'e-i', { rating: 2400 });
  return log;
}

describe('auditLog — a correct log', () => {
  it('reports no violation and counts what happened', () => {
    const result = auditLog(correctLog().events, { settled: true });
    expect(result.violations).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.stats).toMatchObject({
      matches: 5,
      queueMatches: 4,
      challengeMatches: 1,
      gamesCreated: 4,
      matchesAborted: 1,
      openMatches: 0,
      searchingAtEnd: 1,
      claimedAtEnd: 0,
      invalidEvents: 0,
    });
    expect(formatReport(result)).toMatch(/no violations/);
  });
});

describe('I1 — one searching entry per user and tenant', () => {
  it('flags a second join while an entry searches', () => {
    const log = new TestLog().join('a', 'e1').join('a', 'e2');
    expect(codes(log)).toEqual(['I1:TWO_SEARCHING_ENTRIES']);
  });

  it('allows the same user in another tenant', () => {
    const log = new TestLog().join('a', 'e1').join('a', 'e2', { tenantId: 't2' });
    expect(codes(log)).toEqual([]);
  });

  it('flags a released entry searching again next to a newer searching one', () => {
    const log = new TestLog().join('a', 'e1').join('b', 'eb');
    log
      .claim('a', 'e1', 'm1', { user: 'b', entry: 'eb' })
      .join('a', 'e2')
      .release('a', 'e1', 'm1', 'opponent_unavailable');
    expect(codes(log, {})).toContain('I1:TWO_SEARCHING_ENTRIES');
  });

  it('flags an entry id joined twice', () => {
    const log = new TestLog().join('a', 'e1').cancel('a', 'e1').join('a', 'e1');
    expect(codes(log)).toEqual(['I1:DUPLICATE_QUEUE_ENTRY']);
  });
});

describe('I2 — one match per entry, one live match per user', () => {
  it('flags an entry claimed by a second match', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb').join('c', 'ec');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).claim('a', 'ea', 'm2', { user: 'c', entry: 'ec' });
    expect(codes(log, {})).toContain('I2:ENTRY_IN_TWO_MATCHES');
  });

  it('flags a user claimed into a second live match through another entry', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).join('a', 'ea2').join('c', 'ec');
    log.claim('a', 'ea2', 'm2', { user: 'c', entry: 'ec' });
    expect(codes(log, {})).toContain('I2:USER_IN_TWO_LIVE_MATCHES');
  });

  it('flags a user in two matches that have not ended (match streams)', () => {
    const log = new TestLog();
    log.matchCreated(
      'm1',
      { user: 'a', entry: null },
      { user: 'b', entry: null },
      { source: 'challenge', challengeId: 'x1' },
    );
    log.matchCreated(
      'm2',
      { user: 'a', entry: null },
      { user: 'c', entry: null },
      { source: 'challenge', challengeId: 'x2' },
    );
    expect(codes(log, {})).toEqual(['I2:USER_IN_TWO_OPEN_MATCHES']);
  });

  it('flags MatchCreated twice for one match and two games for one match', () => {
    const log = new TestLog().pairAndPlay('a', 'b', 'm1');
    log.matchCreated('m1', { user: 'a', entry: 'e-a-m1' }, { user: 'b', entry: 'e-b-m1' });
    log.gameCreated('m1', 'other-game');
    expect(codes(log)).toEqual(['I2:DUPLICATE_MATCH', 'I2:TWO_GAMES_FOR_MATCH']);
  });

  it('flags a match decided on an entry another match holds', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb').join('c', 'ec');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' });
    log.matchCreated('m2', { user: 'a', entry: 'ea' }, { user: 'c', entry: 'ec' });
    expect(codes(log, {})).toContain('I2:ENTRY_IN_TWO_MATCHES');
  });
});

describe('I3 — cancelled / timed-out entries are never matched', () => {
  it('flags a claim after a cancel', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb').cancel('a', 'ea');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I3:CLAIM_OF_ENDED_ENTRY']);
  });

  it('flags a claim after a timeout', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb').timeOut('a', 'ea');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I3:CLAIM_OF_ENDED_ENTRY']);
  });

  it('flags a cancel that succeeded on a matched entry (both cancelled and matched)', () => {
    const log = new TestLog().pairAndPlay('a', 'b', 'm1').cancel('a', 'e-a-m1');
    expect(codes(log)).toEqual(['I3:CANCEL_OF_MATCHED_ENTRY']);
    const claimed = new TestLog().join('a', 'ea').join('b', 'eb');
    claimed.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).cancel('a', 'ea');
    expect(codes(claimed, {})).toEqual(['I3:CANCEL_OF_MATCHED_ENTRY']);
  });

  it('flags a timeout of a claimed entry', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).timeOut('a', 'ea');
    expect(codes(log, {})).toEqual(['I3:TIMEOUT_OF_NON_SEARCHING_ENTRY']);
  });

  it('flags a match decided on a cancelled entry even without a claim', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb').cancel('a', 'ea');
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I3:MATCH_OF_ENDED_ENTRY']);
  });
});

describe('I4 — the pair is legal', () => {
  const pairOf = (ra: number, rb: number, wa: { low: number; high: number }, wb: { low: number; high: number }) => {
    const log = new TestLog().join('a', 'ea', { rating: ra }).join('b', 'eb', { rating: rb });
    log
      .claim('a', 'ea', 'm1', { user: 'b', entry: 'eb', rating: rb })
      .claim('b', 'eb', 'm1', { user: 'a', entry: 'ea', rating: ra });
    log.matchCreated(
      'm1',
      { user: 'a', entry: 'ea', rating: ra, window: wa },
      { user: 'b', entry: 'eb', rating: rb, window: wb },
    );
    return log;
  };

  it('accepts ratings on the window edges', () => {
    expect(codes(pairOf(1500, 1600, { low: 1400, high: 1600 }, { low: 1500, high: 1700 }), {})).toEqual([]);
  });

  it("flags an opponent outside one player's window", () => {
    const log = pairOf(1500, 1601, { low: 1400, high: 1600 }, { low: 1500, high: 1700 });
    expect(codes(log, {})).toEqual(['I4:OUTSIDE_WINDOW']);
    expect(only(log, {})[0]).toMatchObject({ userId: 'a', matchId: 'm1', queueEntryId: 'ea' });
  });

  it('flags a queue match without recorded windows', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    log.matchCreated('m1', { user: 'a', entry: 'ea', window: null }, { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I4:MISSING_WINDOW']);
  });

  it('flags a window wider than the widening policy allows at decision time', () => {
    const log = pairOf(1500, 1700, { low: 1300, high: 1700 }, { low: 1500, high: 1900 });
    const policy = { initialWindow: 100, wideningStep: 25, wideningIntervalSeconds: 10, maxWindow: 500 };
    expect(codes(log, {})).toEqual([]);
    expect(codes(log, { windowPolicy: policy })).toEqual(['I4:WINDOW_TOO_WIDE', 'I4:WINDOW_TOO_WIDE']);
    // after 80 s of waiting the window may be ±300
    const waited = new TestLog().join('a', 'ea').join('b', 'eb', { rating: 1700 }).wait(80_000);
    waited
      .claim('a', 'ea', 'm1', { user: 'b', entry: 'eb', rating: 1700 })
      .claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    waited.matchCreated(
      'm1',
      { user: 'a', entry: 'ea', window: { low: 1300, high: 1700 } },
      { user: 'b', entry: 'eb', rating: 1700, window: { low: 1500, high: 1900 } },
    );
    expect(codes(waited, { windowPolicy: policy })).toEqual([]);
  });

  it("flags a window beyond the player's own rating range", () => {
    const log = new TestLog().join('a', 'ea', { range: { max: 1550 } }).join('b', 'eb', { rating: 1560 });
    log
      .claim('a', 'ea', 'm1', { user: 'b', entry: 'eb', rating: 1560 })
      .claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb', rating: 1560 });
    expect(codes(log, {})).toEqual(['I4:WINDOW_BEYOND_RANGE']);
  });

  it('flags entries of different pools', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb', { pool: '5+0:rated' });
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I4:POOL_MISMATCH']);
  });

  it('flags a match across tenants', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb', { tenantId: 't2' });
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' });
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I4:CROSS_TENANT_MATCH']);
  });

  it('flags a user paired with themself (even though the schema also rejects it)', () => {
    const log = new TestLog().join('a', 'ea');
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'a', entry: 'ea' });
    const result = auditLog(log.events, {});
    expect(result.violations.map((v) => v.code)).toEqual(
      expect.arrayContaining(['SAME_USER_TWICE', 'SAME_ENTRY_TWICE']),
    );
    expect(result.stats.invalidEvents).toBe(1);
  });

  it('flags a rating that differs from the one the entry joined with', () => {
    const log = new TestLog().join('a', 'ea', { rating: 1500 }).join('b', 'eb');
    log
      .claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' })
      .claim('b', 'eb', 'm1', { user: 'a', entry: 'ea', rating: 1450 });
    log.matchCreated(
      'm1',
      { user: 'a', entry: 'ea', rating: 1450, window: { low: 1350, high: 1550 } },
      { user: 'b', entry: 'eb' },
    );
    expect(codes(log, {})).toEqual(['I4:RATING_MISMATCH']);
  });

  it('flags a match whose game was created without both claims', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' });
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' }).gameCreated('m1', 'g1');
    log.gameStarted('a', 'ea', 'm1', 'g1', 'white');
    expect(codes(log, {})).toEqual(['I4:MISSING_CLAIM']);
  });

  it('flags a claim that names another opponent than the match', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'zed', entry: 'ez' }).claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    log.matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I4:CLAIM_OPPONENT_MISMATCH']);
  });

  it('flags a claim of an entry that never joined', () => {
    const log = new TestLog().join('b', 'eb').claim('a', 'ghost', 'm1', { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual(['I4:CLAIM_OF_UNKNOWN_ENTRY']);
  });
});

describe('I5 — every match ends, nobody is stuck', () => {
  const claimedPair = () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb');
    log.claim('a', 'ea', 'm1', { user: 'b', entry: 'eb' }).claim('b', 'eb', 'm1', { user: 'a', entry: 'ea' });
    return log;
  };

  it('flags a match that never ended — only once settled', () => {
    const log = claimedPair().matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    expect(codes(log, {})).toEqual([]);
    expect(auditLog(log.events).stats.openMatches).toBe(1);
    expect(codes(log)).toEqual(['I5:MATCH_NEVER_ENDED']);
  });

  it('flags an aborted match whose entries were not released', () => {
    const log = claimedPair().matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' }).aborted('m1');
    log.release('a', 'ea', 'm1');
    expect(codes(log)).toEqual(['I5:ABORTED_NOT_RELEASED']);
    expect(only(log)[0]).toMatchObject({ userId: 'b', queueEntryId: 'eb' });
  });

  it('flags claims left behind without any match (a crash between claims and MatchCreated, never recovered)', () => {
    const log = claimedPair();
    expect(codes(log, {})).toEqual([]);
    expect(codes(log)).toEqual(['I5:CLAIM_WITHOUT_MATCH', 'I5:CLAIM_WITHOUT_MATCH']);
  });

  it('flags a game created after an abort, and an abort after a game', () => {
    const log = claimedPair().matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' });
    log.aborted('m1').gameCreated('m1', 'g1');
    expect(codes(log, {})).toContain('I5:GAME_AFTER_ABORT');
    const other = new TestLog().pairAndPlay('a', 'b', 'm1').aborted('m1');
    expect(codes(other, {})).toEqual(['I5:ABORT_AFTER_GAME']);
  });

  it("flags a game whose start never reached a player's stream", () => {
    const log = claimedPair()
      .matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' })
      .gameCreated('m1', 'g1');
    log.gameStarted('a', 'ea', 'm1', 'g1', 'white');
    expect(codes(log, {})).toEqual([]);
    expect(codes(log)).toEqual(['I5:GAME_START_NOT_RECORDED']);
  });

  it('flags a game start that contradicts the match', () => {
    const log = claimedPair()
      .matchCreated('m1', { user: 'a', entry: 'ea' }, { user: 'b', entry: 'eb' })
      .gameCreated('m1', 'g1');
    log.gameStarted('a', 'ea', 'm1', 'g-other', 'white').gameStarted('b', 'eb', 'm1', 'g1', 'black');
    expect(codes(log)).toEqual(['I5:GAME_ID_MISMATCH']);
  });

  it('flags a release of an entry that the match did not hold', () => {
    const log = new TestLog().join('a', 'ea').release('a', 'ea', 'm1');
    expect(codes(log, {})).toEqual(['I5:RELEASE_WITHOUT_CLAIM']);
  });
});

describe('robustness and liveness helper', () => {
  it('keeps auditing past malformed events and unknown types', () => {
    const log = new TestLog()
      .append('player-t1:a', 'SomethingNew', {})
      .append('player-t1:a', 'QueueJoined', { nonsense: true });
    const result = auditLog(log.events);
    expect(result.stats.unknownEventTypes).toBe(1);
    expect(result.stats.invalidEvents).toBe(1);
  });

  it('finds searching entries that would accept each other', () => {
    const log = new TestLog().join('a', 'ea').join('b', 'eb', { rating: 1550 }).join('c', 'ec', { rating: 2000 });
    const policy = { initialWindow: 100, wideningStep: 25, wideningIntervalSeconds: 10, maxWindow: 500 };
    const now = Date.parse(log.now());
    expect(compatibleSearchingPairs(log.events, policy, now).map((p) => [p.a.userId, p.b.userId])).toEqual([
      ['a', 'b'],
    ]);
    log.cancel('b', 'eb');
    expect(compatibleSearchingPairs(log.events, policy, now)).toEqual([]);
    // after 400 s the windows reach ±500: a and c accept each other
    expect(compatibleSearchingPairs(log.events, policy, now + 400_000)).toHaveLength(1);
  });
});

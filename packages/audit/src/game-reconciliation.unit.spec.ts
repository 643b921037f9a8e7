import { describe, expect, it } from 'vitest';
import { formatGameReconciliation, type LiveGameRecord, reconcileGames } from './game-reconciliation.js';
import { TestLog } from './test-log.js';

/** A log touching every way a match ends: a game, an abort, an abort after which the game was cancelled, one still open. */
function log(): TestLog {
  const l = new TestLog();
  l.pairAndPlay('alice', 'bob', 'm-played'); // game g-m-played
  for (const [a, b, m] of [
    ['carol', 'dave', 'm-aborted'],
    ['erin', 'frank', 'm-compensated'],
    ['gina', 'hank', 'm-open'],
  ] as const) {
    l.join(a, `e-${a}`).join(b, `e-${b}`);
    l.claim(a, `e-${a}`, m, { user: b, entry: `e-${b}` }).claim(b, `e-${b}`, m, { user: a, entry: `e-${a}` });
    l.matchCreated(m, { user: a, entry: `e-${a}` }, { user: b, entry: `e-${b}` });
  }
  l.aborted('m-aborted').release('carol', 'e-carol', 'm-aborted').release('dave', 'e-dave', 'm-aborted');
  l.aborted('m-compensated').release('erin', 'e-erin', 'm-compensated').release('frank', 'e-frank', 'm-compensated');
  return l;
}

const game = (gameId: string, matchId: string | null, status = 'active', tenantId = 't1'): LiveGameRecord => ({
  gameId,
  tenantId,
  matchId,
  status,
});

/** live-game-api agreeing with the log. */
const agreeing = (): LiveGameRecord[] => [
  game('g-m-played', 'm-played', 'finished'),
  game('g-compensated', 'm-compensated', 'cancelled'),
  game('g-other', null), // not made by matchmaking
];

const codes = (games: LiveGameRecord[], settled = false) =>
  reconcileGames(log().events, games, { settled }).findings.map((f) => `${f.kind}:${f.code}:${f.gameId}`);

describe('reconcileGames — the log against live-game-api’s games', () => {
  it('agrees when every game belongs to a match that recorded it or is cancelled', () => {
    const result = reconcileGames(log().events, agreeing());
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.stats).toMatchObject({
      games: 3,
      gamesWithoutMatch: 1,
      cancelledGames: 1,
      matches: 4,
      matchesWithGame: 1,
      matchesAborted: 2,
      orphans: 0,
      missing: 0,
    });
    expect(formatGameReconciliation(result)).toMatch(/GAMES: the log and live-game-api agree/);
  });

  it('reports a game of an aborted match that was not cancelled (active or played) as an orphan', () => {
    expect(codes([...agreeing(), game('g-orphan', 'm-aborted')])).toEqual([
      'orphan:ORPHAN_GAME_OF_ABORTED_MATCH:g-orphan',
    ]);
    expect(codes([...agreeing(), game('g-orphan', 'm-aborted', 'finished')])).toEqual([
      'orphan:ORPHAN_GAME_OF_ABORTED_MATCH:g-orphan',
    ]);
    expect(codes([...agreeing(), game('g-orphan', 'm-aborted', 'cancelled')])).toEqual([]);
  });

  it('reports games of unknown matches (same id in another tenant included) and second games of a match', () => {
    expect(
      codes([
        ...agreeing(),
        game('g-unknown', 'm-nowhere'),
        game('g-tenant', 'm-played', 'active', 't2'),
        game('g-second', 'm-played'),
        game('g-unknown-cancelled', 'm-nowhere', 'cancelled'),
      ]),
    ).toEqual([
      'orphan:ORPHAN_GAME_OF_UNKNOWN_MATCH:g-unknown',
      'orphan:ORPHAN_GAME_OF_UNKNOWN_MATCH:g-tenant',
      'orphan:SECOND_GAME_FOR_MATCH:g-second',
    ]);
  });

  it('reports a recorded game live-game-api does not have (missing) or cancelled', () => {
    const withoutPlayed = agreeing().filter((g) => g.gameId !== 'g-m-played');
    expect(codes(withoutPlayed)).toEqual(['missing:MISSING_GAME:g-m-played']);
    const result = reconcileGames(log().events, withoutPlayed);
    expect(result).toMatchObject({ ok: false, stats: { missing: 1, orphans: 0 } });
    expect(formatGameReconciliation(result)).toMatch(/FAIL no missing games/);
    const cancelled = agreeing().map((g) => (g.gameId === 'g-m-played' ? { ...g, status: 'cancelled' } : g));
    expect(codes(cancelled)).toEqual(['mismatch:RECORDED_GAME_CANCELLED:g-m-played']);
  });

  it('a game of a match still open is in flight, unless the system is settled', () => {
    const games = [...agreeing(), game('g-open', 'm-open')];
    expect(codes(games)).toEqual([]);
    expect(reconcileGames(log().events, games).stats.gamesOfOpenMatches).toBe(1);
    expect(codes(games, true)).toEqual(['orphan:GAME_OF_OPEN_MATCH:g-open']);
  });
});

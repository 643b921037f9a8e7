import type { RecordedEvent } from '@mm/event-store';
import { key } from './state.js';

/** A game as live-game-api lists it: what the reconciliation needs. */
export interface LiveGameRecord {
  gameId: string;
  tenantId: string;
  /** The match id matchmaking put in the game's metadata; null for games not made by matchmaking. */
  matchId: string | null;
  /** `active`, `finished`, `cancelled` (anything else is compared as given). */
  status: string;
}

/**
 * - `ORPHAN_GAME_OF_ABORTED_MATCH`: a game that is not cancelled, of a match the log aborted
 *   without a game — players sit (or sat) in a game matchmaking says never happened;
 * - `ORPHAN_GAME_OF_UNKNOWN_MATCH`: a game that is not cancelled, of a match the log does not know;
 * - `SECOND_GAME_FOR_MATCH`: a game that is not cancelled, of a match whose `GameCreated` names another game;
 * - `GAME_OF_OPEN_MATCH` (only with `settled`): a game of a match that never ended in the log;
 * - `MISSING_GAME`: `GameCreated` names a game live-game-api does not have;
 * - `RECORDED_GAME_CANCELLED`: the game `GameCreated` names was cancelled (players were told they play it).
 */
export type GameFindingCode =
  | 'ORPHAN_GAME_OF_ABORTED_MATCH'
  | 'ORPHAN_GAME_OF_UNKNOWN_MATCH'
  | 'SECOND_GAME_FOR_MATCH'
  | 'GAME_OF_OPEN_MATCH'
  | 'MISSING_GAME'
  | 'RECORDED_GAME_CANCELLED';

export interface GameFinding {
  /** `orphan`: a game without a match that owns it; `missing`: a recorded game that is not there; `mismatch`: both exist but disagree. */
  kind: 'orphan' | 'missing' | 'mismatch';
  code: GameFindingCode;
  detail: string;
  tenantId: string;
  matchId: string;
  gameId: string;
}

export interface GameReconciliation {
  ok: boolean;
  findings: GameFinding[];
  stats: {
    /** Games live-game-api listed. */
    games: number;
    /** …of them without a match id (not made by matchmaking; not compared). */
    gamesWithoutMatch: number;
    cancelledGames: number;
    /** Matches in the log, and those with `GameCreated` / `MatchAborted`. */
    matches: number;
    matchesWithGame: number;
    matchesAborted: number;
    /** Games of matches still open in the log (in flight unless the system is settled). */
    gamesOfOpenMatches: number;
    orphans: number;
    missing: number;
  };
}

export interface GameReconciliationOptions {
  /** Nothing is in flight: a game of a match that never ended is reported. @defaultValue false */
  settled?: boolean;
}

interface LoggedMatch {
  tenantId: string;
  matchId: string;
  gameId: string | null;
  aborted: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/** The matches of the log (read defensively from raw data, like the rest of the audit). */
function matchesOf(events: RecordedEvent[]): Map<string, LoggedMatch> {
  const matches = new Map<string, LoggedMatch>();
  for (const event of events) {
    if (event.type !== 'MatchCreated' && event.type !== 'GameCreated' && event.type !== 'MatchAborted') continue;
    const data = event.data as Record<string, unknown>;
    const tenantId = text(event.metadata?.tenantId);
    const matchId = text(data?.matchId);
    if (!tenantId || !matchId) continue;
    const k = key(tenantId, matchId);
    const match = matches.get(k) ?? { tenantId, matchId, gameId: null, aborted: null };
    matches.set(k, match);
    if (event.type === 'GameCreated') match.gameId ??= text(data.gameId);
    if (event.type === 'MatchAborted') match.aborted ??= text(data.reason) ?? 'unknown';
  }
  return matches;
}

/**
 * Compares the log with live-game-api's games, by match id: every game matchmaking made must
 * belong to a match that recorded it, or be cancelled; every recorded game must exist. Pure:
 * same log and games in, same verdict out.
 */
export function reconcileGames(
  events: RecordedEvent[],
  games: LiveGameRecord[],
  options: GameReconciliationOptions = {},
): GameReconciliation {
  const matches = matchesOf(events);
  const findings: GameFinding[] = [];
  const gameIds = new Set(games.map((g) => g.gameId));
  const stats: GameReconciliation['stats'] = {
    games: games.length,
    gamesWithoutMatch: 0,
    cancelledGames: 0,
    matches: matches.size,
    matchesWithGame: 0,
    matchesAborted: 0,
    gamesOfOpenMatches: 0,
    orphans: 0,
    missing: 0,
  };
  const add = (finding: GameFinding) => {
    findings.push(finding);
    if (finding.kind === 'orphan') stats.orphans++;
    if (finding.kind === 'missing') stats.missing++;
  };

  for (const game of games) {
    if (game.status === 'cancelled') stats.cancelledGames++;
    if (!game.matchId) {
      stats.gamesWithoutMatch++;
      continue;
    }
    const where = { tenantId: game.tenantId, matchId: game.matchId, gameId: game.gameId };
    const standing = game.status !== 'cancelled';
    const match = matches.get(key(game.tenantId, game.matchId));
    if (!match) {
      if (standing)
        add({
          kind: 'orphan',
          code: 'ORPHAN_GAME_OF_UNKNOWN_MATCH',
          detail: `game ${game.gameId} (${game.status}) is for match ${game.matchId}, which the log does not know`,
          ...where,
        });
    } else if (match.gameId !== null) {
      if (match.gameId !== game.gameId && standing)
        add({
          kind: 'orphan',
          code: 'SECOND_GAME_FOR_MATCH',
          detail: `game ${game.gameId} (${game.status}) is for match ${game.matchId}, whose recorded game is ${match.gameId}`,
          ...where,
        });
      if (match.gameId === game.gameId && !standing)
        add({
          kind: 'mismatch',
          code: 'RECORDED_GAME_CANCELLED',
          detail: `game ${game.gameId} of match ${game.matchId} is recorded (GameCreated) but cancelled in live-game-api`,
          ...where,
        });
    } else if (match.aborted !== null) {
      if (standing)
        add({
          kind: 'orphan',
          code: 'ORPHAN_GAME_OF_ABORTED_MATCH',
          detail: `game ${game.gameId} (${game.status}) is for match ${game.matchId}, which was aborted (${match.aborted}) and the game not cancelled`,
          ...where,
        });
    } else {
      stats.gamesOfOpenMatches++;
      if (options.settled && standing)
        add({
          kind: 'orphan',
          code: 'GAME_OF_OPEN_MATCH',
          detail: `game ${game.gameId} (${game.status}) is for match ${game.matchId}, which never ended in the log`,
          ...where,
        });
    }
  }

  for (const match of matches.values()) {
    if (match.aborted !== null && match.gameId === null) stats.matchesAborted++;
    if (match.gameId === null) continue;
    stats.matchesWithGame++;
    if (!gameIds.has(match.gameId))
      add({
        kind: 'missing',
        code: 'MISSING_GAME',
        detail: `match ${match.matchId} recorded game ${match.gameId} (GameCreated), which live-game-api does not have`,
        tenantId: match.tenantId,
        matchId: match.matchId,
        gameId: match.gameId,
      });
  }
  return { ok: findings.length === 0, findings, stats };
}

export interface FetchLiveGamesOptions {
  /** Bearer token for live-game-api's internal routes. */
  token?: string;
  /** Only this tenant's games. */
  tenantId?: string;
  /** @defaultValue 1000 */
  pageSize?: number;
  /** Per request. @defaultValue 10000 */
  timeoutMs?: number;
}

/**
 * Every game live-game-api lists: `GET {url}/internal/games?tenant_id=…&limit=…&offset=…`
 * → `{games: [{game_id, tenant_id, match_id | metadata.match_id, status}], next_offset}`,
 * page by page until `next_offset` is null (or absent: a service that does not page).
 */
export async function fetchLiveGames(baseUrl: string, options: FetchLiveGamesOptions = {}): Promise<LiveGameRecord[]> {
  const base = baseUrl.replace(/\/+$/, '');
  const pageSize = options.pageSize ?? 1000;
  const out: LiveGameRecord[] = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const query = new URLSearchParams({ limit: String(pageSize), offset: String(offset) });
    if (options.tenantId) query.set('tenant_id', options.tenantId);
    const response = await fetch(`${base}/internal/games?${query}`, {
      headers: { accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!response.ok)
      throw new Error(`live-game-api listed no games: HTTP ${response.status} from ${base}/internal/games`);
    const page = (await response.json()) as { games?: unknown; next_offset?: unknown };
    if (!Array.isArray(page.games))
      throw new Error(`live-game-api: no games array in the answer of ${base}/internal/games`);
    for (const raw of page.games as Record<string, unknown>[]) {
      const gameId = text(raw.game_id);
      if (!gameId) continue;
      out.push({
        gameId,
        tenantId: text(raw.tenant_id) ?? '',
        matchId: text(raw.match_id) ?? text((raw.metadata as Record<string, unknown> | undefined)?.match_id),
        status: text(raw.status) ?? 'unknown',
      });
    }
    const next = typeof page.next_offset === 'number' && page.games.length > 0 ? page.next_offset : null;
    offset = next !== null && next > offset ? next : null;
  }
  return out;
}

/** {@link fetchLiveGames} then {@link reconcileGames}: what the CLI's `--live-game-api` and the end-to-end tests run. */
export async function reconcileWithLiveGameApi(
  events: RecordedEvent[],
  url: string,
  options: FetchLiveGamesOptions & GameReconciliationOptions = {},
): Promise<GameReconciliation> {
  return reconcileGames(events, await fetchLiveGames(url, options), options);
}

/** A readable section for the audit report. */
export function formatGameReconciliation(result: GameReconciliation, options: { max?: number } = {}): string {
  const max = options.max ?? 20;
  const s = result.stats;
  const lines = [
    `games in live-game-api: ${s.games} (${s.cancelledGames} cancelled, ${s.gamesWithoutMatch} without a match id); ` +
      `matches in the log: ${s.matches} (${s.matchesWithGame} with a game, ${s.matchesAborted} aborted); ` +
      `games of open matches: ${s.gamesOfOpenMatches}`,
    `${s.orphans === 0 ? 'ok  ' : 'FAIL'} no orphan games (every game not cancelled belongs to a match that recorded it)${s.orphans ? ` — ${s.orphans}` : ''}`,
    `${s.missing === 0 ? 'ok  ' : 'FAIL'} no missing games (every GameCreated names a game live-game-api has)${s.missing ? ` — ${s.missing}` : ''}`,
  ];
  for (const f of result.findings.slice(0, max)) lines.push(`       [${f.code}] ${f.detail}`);
  if (result.findings.length > max) lines.push(`       … and ${result.findings.length - max} more`);
  lines.push(
    result.ok
      ? 'GAMES: the log and live-game-api agree'
      : `GAMES: ${result.findings.length} finding(s) between the log and live-game-api`,
  );
  return lines.join('\n');
}

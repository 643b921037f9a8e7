import type { ServerResponse } from 'node:http';
import { matchStream, playerStream } from '@mm/contracts';
import { json } from '@mm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { matchWith, ofType, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';

/*
 * Game creation when a create call's outcome is unknown. live-game-api is not ours: an HTTP
 * double plays an idempotent live-game-api (games by match id, active games, lookup by key,
 * cancel) whose create calls fail as scripted per test. The workers run for real: BullMQ
 * retries (GAME_CREATION_ATTEMPTS = 3, client timeout 1 s), the compensation job included.
 */

/** What one create call does. The "made" ones create the game first (or find it by key), then fail to say so. */
type CreateAction = 'ok' | 'made-500' | 'made-hang' | 'made-reset' | '503' | 'busy-409';

interface FakeGame {
  gameId: string;
  matchId: string;
  users: string[];
  status: 'active' | 'cancelled';
}

interface Plan {
  /** The first match of the test's players: one action per create call (the last repeats). */
  create: CreateAction[];
  /** How the by-key lookup answers: normally; 503; 404 as if live-game-api had no such route. */
  lookup?: (call: number) => 'ok' | '503' | 'absent';
  /** Creates the game this long after the first create call, with no call answering it (a slow commit). */
  lateGameMs?: number;
}

let stack: WorkerStack;
const games = new Map<string, FakeGame>(); // by match id
const plans = new Map<string, Plan>(); // by user prefix
const firstMatchOf = new Map<string, string>(); // prefix → its first match id
const createCalls = new Map<string, number>(); // match id → calls
const lookupCalls = new Map<string, number>();
const cancels: string[] = [];
let counter = 0;

const prefixOf = (userId: string) => userId.split('-')[0]!;

const makeGame = (matchId: string, users: string[]): FakeGame => {
  let game = games.get(matchId);
  if (!game) {
    game = { gameId: `g-${++counter}-${matchId.slice(0, 8)}`, matchId, users, status: 'active' };
    games.set(matchId, game);
  }
  return game;
};

const activeGameOf = (userId: string) =>
  [...games.values()].find((g) => g.status === 'active' && g.users.includes(userId));

const act = async (action: CreateAction, game: () => FakeGame, res: ServerResponse) => {
  switch (action) {
    case 'ok':
      return json(res, 201, { game_id: game().gameId });
    case 'made-500':
      game();
      return json(res, 500, { detail: 'internal error after commit' });
    case 'made-hang':
      game();
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the client gives up after 1 s
      if (!res.destroyed) json(res, 504, {});
      return;
    case 'made-reset':
      game();
      res.socket?.destroy();
      return;
    case '503':
      return json(res, 503, { detail: 'overloaded' });
    case 'busy-409':
      return json(res, 409, { code: 'PLAYER_IN_GAME', detail: 'a player already has an active game' });
  }
};

beforeAll(async () => {
  // Narrow windows and ratings 500 apart: each test's players are only ever paired together.
  stack = await startWorkerStack({ INITIAL_RATING_WINDOW: '50', MAX_RATING_WINDOW: '100' });
  stack.liveGame.handle = async (req, res) => {
    const url = new URL(req.url, 'http://double');
    const body = req.body as { white_user_id?: string; black_user_id?: string; metadata?: { match_id?: string } };
    if (req.method === 'POST' && url.pathname === '/internal/games') {
      const matchId = body.metadata?.match_id ?? '';
      const users = [body.white_user_id ?? '', body.black_user_id ?? ''];
      const prefix = prefixOf(users[0]!);
      const call = (createCalls.get(matchId) ?? 0) + 1;
      createCalls.set(matchId, call);
      if (!firstMatchOf.has(prefix)) firstMatchOf.set(prefix, matchId);
      const plan = firstMatchOf.get(prefix) === matchId ? plans.get(prefix) : undefined;
      if (plan?.lateGameMs !== undefined && call === 1)
        setTimeout(() => makeGame(matchId, users), plan.lateGameMs).unref();
      // A game made before answers any later call with the same key (idempotency).
      const existing = games.get(matchId);
      const action = plan ? (plan.create[call - 1] ?? plan.create.at(-1)!) : 'ok';
      if (existing && action === 'ok') return json(res, 201, { game_id: existing.gameId });
      return act(action, () => makeGame(matchId, users), res);
    }
    const byKey = url.pathname.match(/^\/internal\/games\/by-key\/([^/]+)$/);
    if (req.method === 'GET' && byKey) {
      const matchId = decodeURIComponent(byKey[1]!);
      const call = (lookupCalls.get(matchId) ?? 0) + 1;
      lookupCalls.set(matchId, call);
      const prefix = [...firstMatchOf].find(([, id]) => id === matchId)?.[0];
      const answer = (prefix && plans.get(prefix)?.lookup?.(call)) || 'ok';
      if (answer === '503') return json(res, 503, {});
      const game = games.get(matchId);
      if (answer === 'absent' || !game) return json(res, 404, { detail: 'not found' });
      return json(res, 200, { game_id: game.gameId, status: game.status, metadata: { match_id: matchId } });
    }
    const cancel = url.pathname.match(/^\/internal\/games\/([^/]+)\/cancel$/);
    if (req.method === 'POST' && cancel) {
      const game = [...games.values()].find((g) => g.gameId === decodeURIComponent(cancel[1]!));
      if (!game) return json(res, 404, {});
      cancels.push(game.gameId);
      game.status = 'cancelled';
      return json(res, 200, { game_id: game.gameId, status: game.status });
    }
    const active = url.pathname.match(/^\/internal\/players\/([^/]+)\/active-game$/);
    if (req.method === 'GET' && active) {
      const game = activeGameOf(decodeURIComponent(active[1]!));
      return game ? json(res, 200, { game_id: game.gameId, match_id: game.matchId }) : json(res, 404, {});
    }
    return json(res, 404, {});
  };
  await stack.startWorkers();
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  cancels.length = 0;
});

/** Joins two players of a fresh prefix (ratings far from every other test's) under `plan`; their first match's id. */
const pairUnder = async (prefix: string, rating: number, plan: Plan) => {
  plans.set(prefix, plan);
  const entries = [await stack.join(`${prefix}-a`, rating), await stack.join(`${prefix}-b`, rating)];
  const match = await stack.until(async () => matchWith(await stack.events(), `${prefix}-`), `${prefix} matched`);
  return { matchId: match.matchId as string, entries, users: [`${prefix}-a`, `${prefix}-b`] };
};

const matchEnd = (matchId: string) =>
  stack.until(async () => {
    const types = (await stack.store.readStream(matchStream(matchId))).map((e) => e.type);
    return types.length > 1 && types;
  }, `the end of match ${matchId}`);

const expectPlaying = async (users: string[], matchId: string, gameId: string) => {
  for (const userId of users) {
    const events = await stack.until(async () => {
      const all = await stack.store.readStream(playerStream(TENANT, userId));
      return all.some((e) => e.type === 'QueueEntryGameStarted') && all;
    }, `${userId}'s game start`);
    expect(ofType(events, 'QueueEntryGameStarted').map((e) => [e.data.matchId, e.data.gameId])).toEqual([
      [matchId, gameId],
    ]);
    expect(ofType(events, 'QueueEntryReleased')).toEqual([]);
    expect(ofType(events, 'QueueCancelled')).toEqual([]);
    expect(activeGameOf(userId)?.gameId).toBe(gameId);
  }
};

describe('game creation whose outcome was unknown: no orphan games', () => {
  it('timeout, reset and 5xx attempts after the game was made, then a 503 on the last attempt → GameCreated with that game, no abort', async () => {
    const { matchId, users } = await pairUnder('lost', 1000, { create: ['made-hang', 'made-reset', '503'] });
    expect(await matchEnd(matchId)).toEqual(['MatchCreated', 'GameCreated']);
    const game = games.get(matchId)!;
    const [created] = ofType(await stack.store.readStream(matchStream(matchId)), 'GameCreated');
    expect(created!.data.gameId).toBe(game.gameId);
    expect(createCalls.get(matchId)).toBe(3); // every attempt failed as far as the client could tell
    await expectPlaying(users, matchId, game.gameId);
    expect(game.status).toBe('active');
    expect(cancels).toEqual([]);
  });

  it('a refusal after an attempt that made the game (lost 500) → GameCreated with that game', async () => {
    const { matchId, users } = await pairUnder('refused', 1500, { create: ['made-500', 'busy-409'] });
    expect(await matchEnd(matchId)).toEqual(['MatchCreated', 'GameCreated']);
    expect(createCalls.get(matchId)).toBe(2);
    await expectPlaying(users, matchId, games.get(matchId)!.gameId);
  });

  it('a refusal because a player is in this match’s own game, with no lookup by key → GameCreated with it (not active_game)', async () => {
    const { matchId, users } = await pairUnder('own', 2000, {
      create: ['made-500', 'busy-409'],
      lookup: () => 'absent',
    });
    expect(await matchEnd(matchId)).toEqual(['MatchCreated', 'GameCreated']);
    await expectPlaying(users, matchId, games.get(matchId)!.gameId);
  });

  it('the abort is final while the lookup cannot tell → MatchAborted, then the game that exists is cancelled', async () => {
    const { matchId, users, entries } = await pairUnder('unsure', 2500, {
      create: ['made-500', '503'],
      lookup: (call) => (call <= 2 ? '503' : 'ok'),
    });
    expect(await matchEnd(matchId)).toEqual(['MatchCreated', 'MatchAborted']);
    const game = games.get(matchId)!;
    await stack.until(async () => game.status === 'cancelled', 'the orphan game cancelled', 10_000);
    expect(cancels).toContain(game.gameId);
    const [aborted] = ofType(await stack.store.readStream(matchStream(matchId)), 'MatchAborted');
    expect(aborted!.data).toMatchObject({ reason: 'game_creation_failed', attempts: 3 });
    expect(aborted!.data.detail).toMatch(/could not tell whether a game exists/);
    for (const userId of users) expect(activeGameOf(userId)?.matchId).not.toBe(matchId);
    const released = ofType(await stack.events(), 'QueueEntryReleased').filter((e) => e.data.matchId === matchId);
    expect(released.map((e) => e.data.queueEntryId).sort()).toEqual([...entries].sort());
  });

  it('a game that lands after the abort was written (slow commit) is cancelled by the delayed second look', async () => {
    const { matchId } = await pairUnder('late', 3000, { create: ['503'], lateGameMs: 400 });
    expect(await matchEnd(matchId)).toEqual(['MatchCreated', 'MatchAborted']);
    const game = await stack.until(async () => games.get(matchId), 'the late game');
    await stack.until(async () => game.status === 'cancelled', 'the late game cancelled', 10_000);
    expect(cancels).toEqual([game.gameId]);
    const [aborted] = ofType(await stack.store.readStream(matchStream(matchId)), 'MatchAborted');
    expect(aborted!.data.detail).toMatch(/has no game for the match/);
  });
});

import { type CreateGameRequest, createLiveGameApi, UpstreamError } from '@mm/integrations';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSimConfig, SimConfigError } from './config.js';
import { type RunningSim, startSim } from './sim.js';

const logger = pino({ level: 'silent' });
const request = (white: string, black: string, matchId: string): CreateGameRequest => ({
  tenant_id: 't1',
  white_user_id: white,
  black_user_id: black,
  time_control: '3+0',
  mode: 'rated',
  white_rating: 1500,
  black_rating: 1520,
  metadata: { match_id: matchId, source: 'queue' },
});

let sim: RunningSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const start = async (env: Record<string, string> = {}) => {
  sim = await startSim(loadSimConfig({ PORT: '0', LOG_LEVEL: 'silent', SIM_SEED: 'test', ...env }), logger);
  return sim;
};

describe('live-game-sim over HTTP, called with the real live-game-api client', () => {
  it('creates a game, replays it for the same key (200 + game_id), tracks and finishes active games', async () => {
    const { url } = await start();
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    const { gameId } = await client.createGame(request('a', 'b', 'm1'), 'm1');
    expect(await client.createGame(request('a', 'b', 'm1'), 'm1')).toEqual({ gameId });
    const replay = await fetch(`${url}/internal/games`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'm1' },
      body: JSON.stringify(request('a', 'b', 'm1')),
    });
    expect([replay.status, await replay.json()]).toEqual([200, { game_id: gameId, status: 'active', replayed: true }]);
    expect(await client.activeGame('t1', 'a')).toEqual({ gameId, matchId: 'm1' });
    expect(await client.activeGame('t1', 'zed')).toBeNull();

    const listed = (await (await fetch(`${url}/internal/games?tenant_id=t1`)).json()) as {
      count: number;
      games: Record<string, unknown>[];
    };
    expect(listed.count).toBe(1);
    expect(listed.games[0]).toMatchObject({ game_id: gameId, match_id: 'm1', white_user_id: 'a', status: 'active' });
    const finished = await fetch(`${url}/internal/games/${gameId}/finish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ result: '1-0' }),
    });
    expect(finished.status).toBe(200);
    expect(await client.activeGame('t1', 'a')).toBeNull();
    expect((await fetch(`${url}/internal/games/nope/finish`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses a player already in a game (409 without game_id → permanent for the client)', async () => {
    const { url } = await start();
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    await client.createGame(request('a', 'b', 'm1'), 'm1');
    const error = await client.createGame(request('c', 'a', 'm2'), 'm2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryable).toBe(false);
    expect((error as UpstreamError).status).toBe(409);
  });

  it('validates the body and requires an Idempotency-Key', async () => {
    const { url } = await start();
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/internal/games`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    expect((await post(request('a', 'b', 'm1'))).status).toBe(400);
    expect((await post({ tenant_id: 't1' }, { 'idempotency-key': 'k' })).status).toBe(400);
    expect(
      (await fetch(`${url}/internal/players/a/active-game`)).status, // tenant_id missing
    ).toBe(400);
  });

  it('duplicate fault: the game is created but the reply is lost; the retry with the same key gets that game', async () => {
    const { url, registry } = await start({ SIM_DUPLICATE_RATE: '1' });
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    const first = await client.createGame(request('a', 'b', 'm1'), 'm1').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpstreamError);
    expect((first as UpstreamError).retryable).toBe(true);
    expect(registry.size).toBe(1);
    // The retry is answered from the stored game (no new fault draw), and makes no second game.
    const [game] = registry.list();
    expect(await client.createGame(request('a', 'b', 'm1'), 'm1')).toEqual({ gameId: game!.gameId });
    expect(registry.size).toBe(1);
    expect(game!.idempotencyKey).toBe('m1');
  });

  it('error and reject faults create nothing (retryable / permanent); a timeout creates the game, then hangs', async () => {
    const errors = await start({ SIM_ERROR_RATE: '1' });
    const client = createLiveGameApi({ baseUrl: errors.url, timeoutMs: 2000 });
    const e503 = (await client.createGame(request('a', 'b', 'm1'), 'm1').catch((e: unknown) => e)) as UpstreamError;
    expect([e503.status, e503.retryable]).toEqual([503, true]);
    expect(errors.registry.size).toBe(0);
    await errors.close();

    const rejects = await start({ SIM_REJECT_RATE: '1' });
    const client2 = createLiveGameApi({ baseUrl: rejects.url, timeoutMs: 2000 });
    const e422 = (await client2.createGame(request('a', 'b', 'm1'), 'm1').catch((e: unknown) => e)) as UpstreamError;
    expect([e422.status, e422.retryable]).toEqual([422, false]);
    await rejects.close();

    const hangs = await start({ SIM_TIMEOUT_RATE: '1', SIM_TIMEOUT_MS: '10000' });
    const client3 = createLiveGameApi({ baseUrl: hangs.url, timeoutMs: 200 });
    const started = Date.now();
    const timeout = (await client3.createGame(request('a', 'b', 'm1'), 'm1').catch((e: unknown) => e)) as UpstreamError;
    expect(timeout.retryable).toBe(true);
    expect(timeout.message).toMatch(/no answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(timeout.outcomeUnknown).toBe(true);
    // …and rightly so: the game exists; the lookup by key and the retry both find it.
    expect(hangs.registry.size).toBe(1);
    const made = await client3.findGameByKey('t1', 'm1');
    expect(made).toMatchObject({ status: 'active', matchId: 'm1' });
    expect(await client3.createGame(request('a', 'b', 'm1'), 'm1')).toEqual({ gameId: made!.gameId });
    const stats = (await (await fetch(`${hangs.url}/internal/sim/stats`)).json()) as {
      create_calls_by_fault: Record<string, number>;
    };
    expect(stats.create_calls_by_fault.timeout).toBe(1);
  });

  it('adds the configured latency and enforces the bearer token when set', async () => {
    const { url } = await start({ SIM_LATENCY_MS: '150', SIM_TOKEN: 'secret' });
    const started = Date.now();
    expect((await fetch(`${url}/internal/games`, { headers: { authorization: 'Bearer secret' } })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect((await fetch(`${url}/internal/games`)).status).toBe(401);
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000, token: 'secret' });
    expect((await client.createGame(request('a', 'b', 'm1'), 'm1')).gameId).toBeTruthy();
  });

  it('rejects fault rates that add up to more than 1', () => {
    expect(() => loadSimConfig({ SIM_ERROR_RATE: '0.6', SIM_TIMEOUT_RATE: '0.6' })).toThrow(SimConfigError);
    expect(() => loadSimConfig({ SIM_ERROR_RATE: '2' })).toThrow(SimConfigError);
    expect(loadSimConfig({}).PORT).toBe(8002);
  });

  it('finds a game by its Idempotency-Key (tenant-scoped) whatever its status', async () => {
    const { url } = await start();
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    expect(await client.findGameByKey('t1', 'm1')).toBeNull();
    const { gameId } = await client.createGame(request('a', 'b', 'm1'), 'm1');
    expect(await client.findGameByKey('t1', 'm1')).toEqual({ gameId, status: 'active', matchId: 'm1' });
    expect(await client.findGameByKey('t2', 'm1')).toBeNull();
    expect((await fetch(`${url}/internal/games/by-key/m1`)).status).toBe(400); // tenant_id missing
    await client.cancelGame(gameId, 'match_aborted');
    expect(await client.findGameByKey('t1', 'm1')).toEqual({ gameId, status: 'cancelled', matchId: 'm1' });
  });

  it('cancels a game idempotently: its players are free again; a played game cannot be cancelled', async () => {
    const { url } = await start();
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    const { gameId } = await client.createGame(request('a', 'b', 'm1'), 'm1');
    expect(await client.cancelGame(gameId, 'match_aborted')).toBe('cancelled');
    expect(await client.cancelGame(gameId, 'match_aborted')).toBe('cancelled');
    expect(await client.activeGame('t1', 'a')).toBeNull();
    expect(await client.activeGame('t1', 'b')).toBeNull();
    const view = (await (await fetch(`${url}/internal/games/${gameId}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'cancelled', cancel_reason: 'match_aborted' });
    expect(typeof view.cancelled_at).toBe('string');
    // a retry of the create with that key still answers with that (cancelled) game, creates nothing
    expect(await client.createGame(request('a', 'b', 'm1'), 'm1')).toEqual({ gameId });
    expect(await client.activeGame('t1', 'a')).toBeNull();
    // the players can be given another game
    const other = await client.createGame(request('a', 'b', 'm2'), 'm2');
    expect(await client.cancelGame('nope', 'x')).toBe('not_found');
    await fetch(`${url}/internal/games/${other.gameId}/finish`, { method: 'POST' });
    expect(await client.cancelGame(other.gameId, 'x')).toBe('finished');
    expect(await client.findGameByKey('t1', 'm2')).toMatchObject({ status: 'finished' });
  });

  it('lists games with their match id and status, filtered and paged', async () => {
    const { url } = await start();
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    const ids: string[] = [];
    for (const [i, tenant] of ['t1', 't1', 't1', 't2'].entries())
      ids.push((await client.createGame({ ...request(`w${i}`, `b${i}`, `m${i}`), tenant_id: tenant }, `m${i}`)).gameId);
    await client.cancelGame(ids[1]!, 'match_aborted');
    type Page = {
      count: number;
      total: number;
      next_offset: number | null;
      games: { game_id: string; match_id: string; status: string }[];
    };
    const get = async (query: string) => (await (await fetch(`${url}/internal/games?${query}`)).json()) as Page;
    const first = await get('tenant_id=t1&limit=2');
    expect(first).toMatchObject({ count: 2, total: 3, next_offset: 2 });
    expect(first.games.map((g) => [g.match_id, g.status])).toEqual([
      ['m0', 'active'],
      ['m1', 'cancelled'],
    ]);
    const second = await get('tenant_id=t1&limit=2&offset=2');
    expect(second).toMatchObject({ count: 1, total: 3, next_offset: null });
    expect(second.games[0]!.game_id).toBe(ids[2]);
    expect((await get('status=cancelled')).games.map((g) => g.game_id)).toEqual([ids[1]]);
    expect((await get('match_id=m3')).games.map((g) => g.game_id)).toEqual([ids[3]]);
    expect((await get('')).total).toBe(4);
  });
});

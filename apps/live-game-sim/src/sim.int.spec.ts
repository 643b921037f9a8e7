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
  it('creates a game, replays it for the same key (409 + game_id), tracks and finishes active games', async () => {
    const { url } = await start();
    const client = createLiveGameApi({ baseUrl: url, timeoutMs: 2000 });
    const { gameId } = await client.createGame(request('a', 'b', 'm1'), 'm1');
    expect(await client.createGame(request('a', 'b', 'm1'), 'm1')).toEqual({ gameId });
    expect(await client.activeGame('t1', 'a')).toEqual({ gameId });
    expect(await client.activeGame('t1', 'zed')).toBeNull();

    const listed = (await (await fetch(`${url}/internal/games?tenant_id=t1`)).json()) as {
      count: number;
      games: Record<string, unknown>[];
    };
    expect(listed.count).toBe(1);
    expect(listed.games[0]).toMatchObject({ game_id: gameId, white_user_id: 'a', status: 'active' });
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
    // A later attempt (still faulted: 500 again) does not create a second game.
    await client.createGame(request('a', 'b', 'm1'), 'm1').catch(() => undefined);
    expect(registry.size).toBe(1);
    expect(registry.list()[0]!.idempotencyKey).toBe('m1');
  });

  it('error, reject and timeout faults create nothing and look retryable / permanent / timed out to the client', async () => {
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
    expect(hangs.registry.size).toBe(0);
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
});

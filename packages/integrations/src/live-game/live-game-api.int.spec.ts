import { type HttpDouble, json, startHttpDouble } from '@mm/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../http.js';
import { type CreateGameRequest, createLiveGameApi } from './live-game-api.js';

let liveGame: HttpDouble;
beforeAll(async () => {
  liveGame = await startHttpDouble();
});
afterAll(() => liveGame.close());
beforeEach(() => {
  liveGame.requests.length = 0;
});

const request: CreateGameRequest = {
  tenant_id: 't1',
  white_user_id: 'alice',
  black_user_id: 'bob',
  time_control: '3+0',
  mode: 'rated',
  white_rating: 1500,
  black_rating: 1520,
  metadata: { match_id: 'm1', source: 'queue' },
};

const failure = async (promise: Promise<unknown>): Promise<UpstreamError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
};

describe('live-game-api client', () => {
  it('creates a game with the match id as idempotency key', async () => {
    liveGame.handle = (_req, res) => json(res, 201, { game_id: 'g1' });
    const api = createLiveGameApi({ baseUrl: liveGame.url, token: 's3cret' });
    await expect(api.createGame(request, 'm1')).resolves.toEqual({ gameId: 'g1' });
    const sent = liveGame.requests[0]!;
    expect(sent).toMatchObject({ method: 'POST', url: '/internal/games', body: request });
    expect(sent.headers['idempotency-key']).toBe('m1');
    expect(sent.headers.authorization).toBe('Bearer s3cret');
  });

  it('treats 409 or 200 with the existing game id as success (retry after a lost reply)', async () => {
    for (const status of [409, 200]) {
      liveGame.handle = (_req, res) => json(res, status, { game_id: 'g1' });
      await expect(createLiveGameApi({ baseUrl: liveGame.url }).createGame(request, 'm1')).resolves.toEqual({
        gameId: 'g1',
      });
    }
  });

  it('classifies failures as retryable or permanent', async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url, timeoutMs: 100 });
    const kind = (e: UpstreamError) => ({ retryable: e.retryable, outcomeUnknown: e.outcomeUnknown });
    liveGame.handle = (_req, res) => json(res, 503, {});
    // a 5xx may come after the game was made: retry, and do not assume there is none
    expect(kind(await failure(api.createGame(request, 'm1')))).toEqual({ retryable: true, outcomeUnknown: true });
    liveGame.handle = (_req, res) => json(res, 429, {});
    expect(kind(await failure(api.createGame(request, 'm1')))).toEqual({ retryable: true, outcomeUnknown: false });
    liveGame.handle = (_req, res) => json(res, 422, { detail: 'unknown time control' });
    const permanent = await failure(api.createGame(request, 'm1'));
    expect(kind(permanent)).toEqual({ retryable: false, outcomeUnknown: false });
    expect(permanent.message).toMatch(/unknown time control/);
    liveGame.handle = () => new Promise((resolve) => setTimeout(resolve, 300)).then(() => undefined);
    expect(kind(await failure(api.createGame(request, 'm1')))).toEqual({ retryable: true, outcomeUnknown: true });
    // the connection drops after the request was sent: it may have been processed
    liveGame.handle = (_req, res) => {
      res.socket?.destroy();
    };
    expect(kind(await failure(api.createGame(request, 'm1')))).toEqual({ retryable: true, outcomeUnknown: true });
    // refused: the request never reached anyone
    const unreachable = createLiveGameApi({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 });
    expect(kind(await failure(unreachable.createGame(request, 'm1')))).toEqual({
      retryable: true,
      outcomeUnknown: false,
    });
  });

  it("tells a player's active game", async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url });
    liveGame.handle = (_req, res) => json(res, 200, { game_id: 'g7' });
    await expect(api.activeGame('t 1', 'alice')).resolves.toEqual({ gameId: 'g7' });
    liveGame.handle = (_req, res) => json(res, 200, { game_id: 'g7', match_id: 'm7' });
    await expect(api.activeGame('t 1', 'alice')).resolves.toEqual({ gameId: 'g7', matchId: 'm7' });
    expect(liveGame.requests[0]?.url).toBe('/internal/players/alice/active-game?tenant_id=t%201');
    liveGame.handle = (_req, res) => json(res, 404, {});
    await expect(api.activeGame('t1', 'alice')).resolves.toBeNull();
    liveGame.handle = (_req, res) => json(res, 500, {});
    await failure(api.activeGame('t1', 'alice'));
  });

  it('finds the game of an idempotency key (or none), with its status and match id', async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url, token: 's3cret' });
    liveGame.handle = (_req, res) =>
      json(res, 200, { game_id: 'g1', status: 'active', metadata: { match_id: 'm 1', source: 'queue' } });
    await expect(api.findGameByKey('t 1', 'm 1')).resolves.toEqual({ gameId: 'g1', status: 'active', matchId: 'm 1' });
    expect(liveGame.requests[0]).toMatchObject({ method: 'GET', url: '/internal/games/by-key/m%201?tenant_id=t%201' });
    expect(liveGame.requests[0]!.headers.authorization).toBe('Bearer s3cret');
    liveGame.handle = (_req, res) => json(res, 200, { game_id: 'g1', status: 'paused', match_id: 'm1' });
    await expect(api.findGameByKey('t1', 'm1')).resolves.toEqual({ gameId: 'g1', status: 'unknown', matchId: 'm1' });
    liveGame.handle = (_req, res) => json(res, 404, { detail: 'no game' });
    await expect(api.findGameByKey('t1', 'm1')).resolves.toBeNull();
  });

  it('a lookup that cannot tell throws, retryable or not like the other calls', async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url, timeoutMs: 100 });
    liveGame.handle = (_req, res) => json(res, 502, {});
    expect((await failure(api.findGameByKey('t1', 'm1'))).retryable).toBe(true);
    liveGame.handle = (_req, res) => json(res, 200, {});
    expect((await failure(api.findGameByKey('t1', 'm1'))).retryable).toBe(true);
    liveGame.handle = (_req, res) => json(res, 401, { detail: 'bad token' });
    const denied = await failure(api.findGameByKey('t1', 'm1'));
    expect([denied.retryable, denied.status]).toEqual([false, 401]);
    expect(denied.message).toMatch(/game lookup: HTTP 401: bad token/);
    liveGame.handle = () => new Promise((resolve) => setTimeout(resolve, 300)).then(() => undefined);
    expect((await failure(api.findGameByKey('t1', 'm1'))).retryable).toBe(true);
  });

  it('cancels a game: cancelled (also again), not found, or already played', async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url, timeoutMs: 100 });
    liveGame.handle = (_req, res) => json(res, 200, { game_id: 'g/1', status: 'cancelled' });
    await expect(api.cancelGame('g/1', 'match_aborted')).resolves.toBe('cancelled');
    expect(liveGame.requests[0]).toMatchObject({
      method: 'POST',
      url: '/internal/games/g%2F1/cancel',
      body: { reason: 'match_aborted' },
    });
    liveGame.handle = (_req, res) => json(res, 404, {});
    await expect(api.cancelGame('g1', 'x')).resolves.toBe('not_found');
    liveGame.handle = (_req, res) => json(res, 409, { code: 'GAME_FINISHED', status: 'finished' });
    await expect(api.cancelGame('g1', 'x')).resolves.toBe('finished');
    liveGame.handle = (_req, res) => json(res, 409, { code: 'SOMETHING_ELSE' });
    expect((await failure(api.cancelGame('g1', 'x'))).retryable).toBe(false);
    liveGame.handle = (_req, res) => json(res, 503, {});
    expect((await failure(api.cancelGame('g1', 'x'))).retryable).toBe(true);
    liveGame.handle = () => new Promise((resolve) => setTimeout(resolve, 300)).then(() => undefined);
    expect((await failure(api.cancelGame('g1', 'x'))).retryable).toBe(true);
  });
});

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

  it('treats 409 with the existing game id as success (retry after a lost reply)', async () => {
    liveGame.handle = (_req, res) => json(res, 409, { game_id: 'g1' });
    await expect(createLiveGameApi({ baseUrl: liveGame.url }).createGame(request, 'm1')).resolves.toEqual({
      gameId: 'g1',
    });
  });

  it('classifies failures as retryable or permanent', async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url, timeoutMs: 100 });
    liveGame.handle = (_req, res) => json(res, 503, {});
    expect((await failure(api.createGame(request, 'm1'))).retryable).toBe(true);
    liveGame.handle = (_req, res) => json(res, 422, { detail: 'unknown time control' });
    const permanent = await failure(api.createGame(request, 'm1'));
    expect(permanent.retryable).toBe(false);
    expect(permanent.message).toMatch(/unknown time control/);
    liveGame.handle = () => new Promise((resolve) => setTimeout(resolve, 300)).then(() => undefined);
    expect((await failure(api.createGame(request, 'm1'))).retryable).toBe(true);
    const unreachable = createLiveGameApi({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 });
    expect((await failure(unreachable.createGame(request, 'm1'))).retryable).toBe(true);
  });

  it("tells a player's active game", async () => {
    const api = createLiveGameApi({ baseUrl: liveGame.url });
    liveGame.handle = (_req, res) => json(res, 200, { game_id: 'g7' });
    await expect(api.activeGame('t 1', 'alice')).resolves.toEqual({ gameId: 'g7' });
    expect(liveGame.requests[0]?.url).toBe('/internal/players/alice/active-game?tenant_id=t%201');
    liveGame.handle = (_req, res) => json(res, 404, {});
    await expect(api.activeGame('t1', 'alice')).resolves.toBeNull();
    liveGame.handle = (_req, res) => json(res, 500, {});
    await failure(api.activeGame('t1', 'alice'));
  });
});

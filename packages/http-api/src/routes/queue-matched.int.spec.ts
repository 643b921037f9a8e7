import { adminToken, json, playerToken } from '@mm/testing';
import { startWorkers, type Workers } from '@mm/workers';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';

/** The read side of a match, end to end: API → event store → projector → pairing/game workers → API. */
let stack: TestStack;
let workers: Workers;
beforeAll(async () => {
  stack = await startTestStack({ WORKER_INTERVAL_SECONDS: '0.5' });
  stack.liveGame.handle = (req, res) => {
    const matchId = (req.body as { metadata?: { match_id?: string } } | null)?.metadata?.match_id;
    if (req.method === 'POST' && req.url === '/internal/games')
      return json(res, 201, { game_id: `game-of-${matchId}` });
    json(res, 404, {});
  };
  workers = await startWorkers({
    config: stack.config,
    logger: pino({ level: 'silent' }),
    store: stack.store,
    redis: stack.redis,
    db: stack.db.pool,
  });
});
afterAll(async () => {
  await workers?.close();
  await stack?.stop();
});

describe('GET /v1/matchmaking/queue/{id} once matched (with the workers running)', () => {
  it('shows MATCHED with match_id, colour, opponent and game_id; the summary counts the match', async () => {
    const tenant = `tenant-matched-${Date.now()}`;
    const [alice, bob] = ['alice', 'bob'].map((id) => ({ id, token: playerToken(tenant, id) }));
    const body = { time_control: '5+0', mode: 'rated' };
    const joinedA = await stack.request('POST', '/v1/matchmaking/queue', { token: alice!.token, body });
    const joinedB = await stack.request('POST', '/v1/matchmaking/queue', { token: bob!.token, body });
    expect([joinedA.status, joinedB.status]).toEqual([201, 201]);

    const view = async (token: string, id: string) =>
      (await stack.request('GET', `/v1/matchmaking/queue/${id}`, { token })).body;
    const deadline = Date.now() + 15_000;
    let a = await view(alice!.token, joinedA.body.queue_entry_id);
    while (!(a.status === 'MATCHED' && a.game_id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      a = await view(alice!.token, joinedA.body.queue_entry_id);
    }
    const b = await view(bob!.token, joinedB.body.queue_entry_id);
    expect(a).toMatchObject({ status: 'MATCHED', opponent_id: 'bob', game_id: `game-of-${a.match_id}` });
    expect(b).toMatchObject({ status: 'MATCHED', opponent_id: 'alice', match_id: a.match_id, game_id: a.game_id });
    expect(a.match_id).toEqual(expect.any(String));
    expect([a.colour, b.colour].sort()).toEqual(['black', 'white']);

    // /active keeps showing the game once it exists (the entry itself is no longer active once
    // the game start is on the player's stream, a moment after GameCreated)
    let active = await stack.request('GET', '/v1/matchmaking/active', { token: alice!.token });
    const activeDeadline = Date.now() + 10_000;
    while (active.body.queue_entry !== null && Date.now() < activeDeadline) {
      await new Promise((r) => setTimeout(r, 50));
      active = await stack.request('GET', '/v1/matchmaking/active', { token: alice!.token });
    }
    expect(active.body).toEqual({
      queue_entry: null,
      match: { match_id: a.match_id, game_id: a.game_id, colour: a.colour, opponent_id: 'bob', status: 'GAME_CREATED' },
    });

    const summary = await stack.request('GET', '/internal/queues/summary', { token: adminToken(tenant) });
    expect(summary.body.pools).toEqual([
      expect.objectContaining({
        pool: expect.objectContaining({ key: '5+0:rated' }),
        searching: 0,
        matches_last_minute: 1,
      }),
    ]);
  });
});

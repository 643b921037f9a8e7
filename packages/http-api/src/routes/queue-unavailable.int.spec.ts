import { json, playerToken } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';

/** The "reject" policies: when a dependency is down the join fails with 503 and changes nothing. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ RATING_FALLBACK: 'reject', ACTIVE_GAME_CHECK_ON_FAILURE: 'reject' });
});
afterAll(() => stack?.stop());

const join = (user: string) =>
  stack.request('POST', '/v1/matchmaking/queue', {
    token: playerToken('tenant-u', user),
    body: { time_control: '3+0', mode: 'rated' },
  });

describe('503 MATCHMAKING_UNAVAILABLE', () => {
  it('when rating-api is down and RATING_FALLBACK=reject', async () => {
    stack.ratingApi.handle = (_req, res) => json(res, 503, {});
    const before = (await stack.allEvents()).length;
    const res = await join('ann');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 503, code: 'MATCHMAKING_UNAVAILABLE' });
    expect((await stack.allEvents()).length).toBe(before);
    stack.ratingApi.handle = (_req, res) => json(res, 200, { rating: 1500 });
    expect((await join('ann')).status).toBe(201);
  });

  it('when the active-game check fails and ACTIVE_GAME_CHECK_ON_FAILURE=reject', async () => {
    stack.liveGame.handle = (_req, res) => json(res, 500, {});
    const before = (await stack.allEvents()).length;
    const res = await join('ben');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('MATCHMAKING_UNAVAILABLE');
    expect((await stack.allEvents()).length).toBe(before);
  });

  it('when the event store is unreachable (nothing is half-applied)', async () => {
    stack.liveGame.handle = (_req, res) => json(res, 404, {});
    const original = stack.store.appendToStream.bind(stack.store);
    stack.store.appendToStream = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    try {
      const res = await join('cy');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('MATCHMAKING_UNAVAILABLE');
    } finally {
      stack.store.appendToStream = original;
    }
    expect((await join('cy')).status).toBe(201);
  });
});

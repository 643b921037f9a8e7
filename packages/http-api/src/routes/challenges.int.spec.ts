import { auditLog } from '@mm/audit';
import { challengeStream, matchStream, playerStream } from '@mm/contracts';
import { challengeDecider, challengerColour, handleCommand, matchDecider, playerDecider } from '@mm/domain';
import type { EventMetadata } from '@mm/event-store';
import { fixedRatingProvider } from '@mm/integrations';
import { CHALLENGE_QUEUE, enqueueGameCreation } from '@mm/redis';
import { json, playerToken } from '@mm/testing';
import { startWorkers } from '@mm/workers';
import { type ChallengeWorkers, driveChallenge, startChallengeWorkers } from '@mm/workers/challenges';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';

const TTL_SECONDS = 120;
let stack: TestStack;
let workers: ChallengeWorkers;
/** Shifts the API's clock (ms): lets a test issue a challenge that expires soon, or act after expiry. */
let clockOffsetMs = 0;
/** Where the API's game-creation requests go; a test may forward them to the workers' real queue. */
let forwardGames: ((tenantId: string, matchId: string) => Promise<void>) | null = null;
const gameCreation = {
  request: vi.fn(async (tenantId: string, matchId: string) => {
    await forwardGames?.(tenantId, matchId);
  }),
};

beforeAll(async () => {
  stack = await startTestStack(
    { MAX_PENDING_CHALLENGES: '3', CHALLENGE_TTL_SECONDS: String(TTL_SECONDS) },
    { clock: () => new Date(Date.now() + clockOffsetMs), gameCreation },
  );
  workers = await startChallengeWorkers({
    config: stack.config,
    logger: pino({ level: 'silent' }),
    store: stack.store,
    redis: stack.redis,
    db: stack.db.pool,
    sweepEveryMs: 60_000,
  });
}, 60_000);
afterAll(async () => {
  await workers?.close();
  await stack?.stop();
});

let n = 0;
/** A fresh user per test so tests do not see each other's challenges. */
const user = (tenant = 'tenant-a') => {
  n += 1;
  const id = `user-${n}-${Math.random().toString(36).slice(2, 8)}`;
  return { tenant, id, token: playerToken(tenant, id) };
};
type User = ReturnType<typeof user>;

const challenge = (from: User, to: User | string, body: Record<string, unknown> = {}) =>
  stack.request('POST', '/v1/matchmaking/challenges', {
    token: from.token,
    body: {
      opponent_id: typeof to === 'string' ? to : to.id,
      time_control: '5+3',
      mode: 'rated',
      color: 'white',
      ...body,
    },
  });
const act = (who: User, id: string, action: 'accept' | 'decline' | 'cancel', body?: unknown) =>
  stack.request('POST', `/v1/matchmaking/challenges/${id}/${action}`, {
    token: who.token,
    ...(body === undefined ? {} : { body }),
  });
const get = (who: User, id: string) => stack.request('GET', `/v1/matchmaking/challenges/${id}`, { token: who.token });

const challengeEvents = async (id: string) => (await stack.store.readStream(challengeStream(id))).map((e) => e.type);
const playerEvents = async (u: User) => (await stack.store.readStream(playerStream(u.tenant, u.id))).map((e) => e.type);
const matchEvents = async (id: string) => (await stack.store.readStream(matchStream(id))).map((e) => e.type);
const playerState = async (u: User) => {
  let state = playerDecider.initialState();
  for (const e of await stack.store.readStream(playerStream(u.tenant, u.id)))
    state = playerDecider.evolve(state, e as never);
  return state;
};
const join = (u: User) =>
  stack.request('POST', '/v1/matchmaking/queue', { token: u.token, body: { time_control: '3+0', mode: 'rated' } });

const expectProblem = (
  res: { status: number; body: { code?: string }; headers: Headers },
  status: number,
  code: string,
) => {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code });
};

describe('POST /v1/matchmaking/challenges', () => {
  it('issues a pending challenge: 201, Location, events on both streams, expiry job at expires_at', async () => {
    const [alice, bob] = [user(), user()];
    const before = Date.now();
    const res = await challenge(alice, bob, { color: 'random', message: 'gl hf' });
    expect(res.status).toBe(201);
    const id = res.body.challenge_id as string;
    expect(res.headers.get('location')).toBe(`/v1/matchmaking/challenges/${id}`);
    expect(res.body).toMatchObject({
      status: 'PENDING',
      challenger_id: alice.id,
      opponent_id: bob.id,
      time_control: '5+3',
      mode: 'rated',
      color: 'random',
      message: 'gl hf',
      match_id: null,
      game_id: null,
      decline_reason: null,
    });
    const ttl = Date.parse(res.body.expires_at) - Date.parse(res.body.created_at);
    expect(ttl).toBe(TTL_SECONDS * 1000);
    expect(Date.parse(res.body.created_at)).toBeGreaterThanOrEqual(before - 5);
    expect(await challengeEvents(id)).toEqual(['ChallengeIssued']);
    expect(await playerEvents(alice)).toEqual(['ChallengeSent']);
    expect(await playerEvents(bob)).toEqual([]);
    const [issued] = await stack.store.readStream(challengeStream(id));
    expect(issued?.metadata).toMatchObject({ tenantId: 'tenant-a', actor: { type: 'user', id: alice.id } });
    const job = await workers.queue.getJob(id);
    expect(job?.data).toEqual({ tenantId: 'tenant-a', challengeId: id });
    expect(await job?.getState()).toBe('delayed');
    expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(Date.parse(res.body.expires_at) - 1000);
  });

  it('a new challenge to the same opponent replaces the pending one (which becomes CANCELLED)', async () => {
    const [alice, bob] = [user(), user()];
    const first = await challenge(alice, bob);
    const second = await challenge(alice, bob, { time_control: '3+0' });
    expect(second.status).toBe(201);
    expect(await challengeEvents(first.body.challenge_id)).toEqual(['ChallengeIssued', 'ChallengeCancelled']);
    const [, cancelled] = await stack.store.readStream(challengeStream(first.body.challenge_id));
    expect(cancelled?.data).toMatchObject({ reason: 'replaced' });
    expect((await get(alice, first.body.challenge_id)).body.status).toBe('CANCELLED');
    expectProblem(await act(bob, first.body.challenge_id, 'accept'), 409, 'INVALID_CHALLENGE_STATE');
    expect((await get(bob, second.body.challenge_id)).body.status).toBe('PENDING');
  });

  it('429 TOO_MANY_PENDING_CHALLENGES over the cap (3 here), with no event; answering one frees a slot', async () => {
    const alice = user();
    const opponents = [user(), user(), user(), user()];
    const ids: string[] = [];
    for (const o of opponents.slice(0, 3)) ids.push((await challenge(alice, o)).body.challenge_id);
    const before = (await stack.allEvents()).length;
    expectProblem(await challenge(alice, opponents[3]!), 429, 'TOO_MANY_PENDING_CHALLENGES');
    expect((await stack.allEvents()).length).toBe(before);
    expect((await act(opponents[0]!, ids[0]!, 'decline')).status).toBe(200);
    expect((await challenge(alice, opponents[3]!)).status).toBe(201);
  });

  const bad: [string, Record<string, unknown>, number, string][] = [
    ['missing fields', {}, 400, 'VALIDATION_FAILED'],
    [
      'a bad colour',
      { opponent_id: 'x', time_control: '5+3', mode: 'rated', color: 'green' },
      400,
      'VALIDATION_FAILED',
    ],
    ['a bad mode', { opponent_id: 'x', time_control: '5+3', mode: 'bullet', color: 'white' }, 400, 'VALIDATION_FAILED'],
    [
      'unknown fields',
      { opponent_id: 'x', time_control: '5+3', mode: 'rated', color: 'white', tenant_id: 'tenant-b' },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a long message',
      { opponent_id: 'x', time_control: '5+3', mode: 'rated', color: 'white', message: 'm'.repeat(281) },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'an empty opponent',
      { opponent_id: '', time_control: '5+3', mode: 'rated', color: 'white' },
      400,
      'VALIDATION_FAILED',
    ],
    [
      'a time control not offered',
      { opponent_id: 'x', time_control: '7+7', mode: 'rated', color: 'white' },
      400,
      'UNKNOWN_POOL',
    ],
    [
      'a malformed time control',
      { opponent_id: 'x', time_control: 'fast', mode: 'rated', color: 'white' },
      400,
      'VALIDATION_FAILED',
    ],
  ];
  it.each(bad)('%s → %i %s, no event', async (_name, body, status, code) => {
    const u = user();
    const before = (await stack.allEvents()).length;
    expectProblem(await stack.request('POST', '/v1/matchmaking/challenges', { token: u.token, body }), status, code);
    expect((await stack.allEvents()).length).toBe(before);
  });

  it('400 CANNOT_CHALLENGE_SELF, no event; 401 without a token', async () => {
    const u = user();
    const before = (await stack.allEvents()).length;
    expectProblem(await challenge(u, u), 400, 'CANNOT_CHALLENGE_SELF');
    const anonymous = await stack.request('POST', '/v1/matchmaking/challenges', {
      body: { opponent_id: 'x', time_control: '5+3', mode: 'rated', color: 'white' },
    });
    expect(anonymous.status).toBe(401);
    expect((await stack.allEvents()).length).toBe(before);
  });

  it('Idempotency-Key: a retried issue replays the response and issues nothing new', async () => {
    const [alice, bob] = [user(), user()];
    const send = () =>
      stack.request('POST', '/v1/matchmaking/challenges', {
        token: alice.token,
        headers: { 'idempotency-key': 'ch-1' },
        body: { opponent_id: bob.id, time_control: '5+3', mode: 'rated', color: 'white' },
      });
    const first = await send();
    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(await playerEvents(alice)).toEqual(['ChallengeSent']);
  });
});

describe('POST /v1/matchmaking/challenges/{id}/accept', () => {
  it('accepts: 200 ACCEPTED with the match; MatchCreated (source challenge) with colours from the preference', async () => {
    const [alice, bob] = [user(), user()];
    gameCreation.request.mockClear();
    const { body } = await challenge(alice, bob, { color: 'black' });
    const res = await act(bob, body.challenge_id, 'accept');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      challenge_id: body.challenge_id,
      status: 'ACCEPTED',
      match_id: body.challenge_id,
    });
    expect(await challengeEvents(body.challenge_id)).toEqual(['ChallengeIssued', 'ChallengeAccepted']);
    const [created] = await stack.store.readStream(matchStream(body.challenge_id));
    expect(created).toMatchObject({
      type: 'MatchCreated',
      data: {
        source: 'challenge',
        challengeId: body.challenge_id,
        pool: { key: '5+3:rated' },
        white: { userId: bob.id, rating: 1500 },
        black: { userId: alice.id, rating: 1500 },
      },
    });
    expect(gameCreation.request).toHaveBeenCalledWith('tenant-a', body.challenge_id);
    expect(await playerEvents(alice)).toEqual(['ChallengeSent', 'ChallengeMatchClaimed', 'ChallengeSettled']);
    expect(await playerEvents(bob)).toEqual(['ChallengeMatchClaimed']);
    // both are now in a match being created: no queue, no second accept elsewhere
    expectProblem(await join(alice), 409, 'ACTIVE_GAME_EXISTS');
    const active = await stack.request('GET', '/v1/matchmaking/active', { token: bob.token });
    expect(active.body.match).toMatchObject({ match_id: body.challenge_id, opponent_id: alice.id });
    // a repeated accept is harmless: same answer, nothing appended
    const count = (await stack.allEvents()).length;
    expect((await act(bob, body.challenge_id, 'accept')).body.status).toBe('ACCEPTED');
    expect((await stack.allEvents()).length).toBe(count);
  });

  it('random colour is reproducible from the challenge id', async () => {
    const [alice, bob] = [user(), user()];
    const { body } = await challenge(alice, bob, { color: 'random' });
    expect((await act(bob, body.challenge_id, 'accept')).status).toBe(200);
    const [created] = await stack.store.readStream(matchStream(body.challenge_id));
    const expected = challengerColour(body.challenge_id, 'random').colour;
    const data = created!.data as Record<string, { userId: string }>;
    expect(data[expected]?.userId).toBe(alice.id);
    expect(created?.data).toMatchObject({ colourReason: 'challenge_random' });
  });

  it('cancels a searching queue entry of either player as part of accepting; the match is created', async () => {
    const [alice, bob] = [user(), user()];
    const aliceEntry = (await join(alice)).body.queue_entry_id;
    const bobEntry = (await join(bob)).body.queue_entry_id;
    const { body } = await challenge(alice, bob);
    expect((await act(bob, body.challenge_id, 'accept')).status).toBe(200);
    expect(await matchEvents(body.challenge_id)).toEqual(['MatchCreated']);
    for (const [u, entry] of [
      [alice, aliceEntry],
      [bob, bobEntry],
    ] as const) {
      const events = await stack.store.readStream(playerStream(u.tenant, u.id));
      const cancelled = events.find((e) => e.type === 'QueueCancelled');
      expect(cancelled?.data).toMatchObject({ queueEntryId: entry, reason: 'challenge_accepted' });
      const status = await stack.request('GET', `/v1/matchmaking/queue/${entry}`, { token: u.token });
      expect(status.body.status).toBe('CANCELLED');
      const state = await playerState(u);
      expect(state.activeEntryId).toBeNull();
      expect(state.liveMatch).toMatchObject({ matchId: body.challenge_id });
    }
    await stack.settle();
    const row = await stack.db.pool.query(
      `SELECT status, held_by_match_id FROM "${stack.db.schema}".queue_entries WHERE queue_entry_id = ANY($1)`,
      [[aliceEntry, bobEntry]],
    );
    expect(row.rows.map((r) => r.status)).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('only the opponent may accept: 403 for the challenger, 404 for strangers and other tenants; no event', async () => {
    const [alice, bob, eve] = [user(), user(), user()];
    const { body } = await challenge(alice, bob);
    const before = (await stack.allEvents()).length;
    expectProblem(await act(alice, body.challenge_id, 'accept'), 403, 'NOT_ALLOWED');
    expectProblem(await act(eve, body.challenge_id, 'accept'), 404, 'CHALLENGE_NOT_FOUND');
    // the same user id in another tenant is another person
    const bobElsewhere = { tenant: 'tenant-b', id: bob.id, token: playerToken('tenant-b', bob.id) };
    for (const action of ['accept', 'decline'] as const)
      expectProblem(await act(bobElsewhere, body.challenge_id, action), 404, 'CHALLENGE_NOT_FOUND');
    const aliceElsewhere = { tenant: 'tenant-b', id: alice.id, token: playerToken('tenant-b', alice.id) };
    expectProblem(await act(aliceElsewhere, body.challenge_id, 'cancel'), 404, 'CHALLENGE_NOT_FOUND');
    expectProblem(await act(bob, 'no-such-challenge', 'accept'), 404, 'CHALLENGE_NOT_FOUND');
    expectProblem(await act(bob, 'bad%20id!', 'accept'), 404, 'CHALLENGE_NOT_FOUND');
    expect((await stack.allEvents()).length).toBe(before);
    expect((await get(bob, body.challenge_id)).body.status).toBe('PENDING');
  });

  it('409 INVALID_CHALLENGE_STATE once expired, even before the expiry job ran', async () => {
    const [alice, bob] = [user(), user()];
    const { body } = await challenge(alice, bob);
    clockOffsetMs = (TTL_SECONDS + 1) * 1000;
    try {
      const before = (await stack.allEvents()).length;
      expectProblem(await act(bob, body.challenge_id, 'accept'), 409, 'INVALID_CHALLENGE_STATE');
      expectProblem(await act(bob, body.challenge_id, 'decline'), 409, 'INVALID_CHALLENGE_STATE');
      expect((await stack.allEvents()).length).toBe(before);
      expect((await get(alice, body.challenge_id)).body.status).toBe('EXPIRED');
    } finally {
      clockOffsetMs = 0;
    }
    expect(await challengeEvents(body.challenge_id)).toEqual(['ChallengeIssued']);
  });

  it('409 ACTIVE_GAME_EXISTS when live-game-api reports a game of either player; nothing appended', async () => {
    const [alice, bob] = [user(), user()];
    const { body } = await challenge(alice, bob);
    for (const busy of [alice, bob]) {
      stack.liveGame.handle = (req, res) =>
        req.url.includes(encodeURIComponent(busy.id)) ? json(res, 200, { game_id: 'g-7' }) : json(res, 404, {});
      try {
        const before = (await stack.allEvents()).length;
        const res = await act(bob, body.challenge_id, 'accept');
        expectProblem(res, 409, 'ACTIVE_GAME_EXISTS');
        expect(res.body).toMatchObject({ user_id: busy.id, game_id: 'g-7' });
        expect((await stack.allEvents()).length).toBe(before);
      } finally {
        stack.liveGame.handle = (_req, res) => json(res, 404, {});
      }
    }
    expect((await act(bob, body.challenge_id, 'accept')).status).toBe(200);
  });

  it('409 CANNOT_ACCEPT_CHALLENGE when a player is already matched; the other is not left reserved', async () => {
    const [alice, bob, carol] = [user(), user(), user()];
    const first = await challenge(alice, bob);
    const second = await challenge(carol, bob);
    expect((await act(bob, first.body.challenge_id, 'accept')).status).toBe(200);
    const res = await act(bob, second.body.challenge_id, 'accept');
    expectProblem(res, 409, 'CANNOT_ACCEPT_CHALLENGE');
    expect((await playerState(carol)).liveMatch).toBeNull();
    expect(await challengeEvents(second.body.challenge_id)).toEqual(['ChallengeIssued']);
    // and the challenger side: alice is matched, so dave cannot get her through a challenge she sent earlier
    const dave = user();
    const aliceToDave = await challenge(alice, dave);
    expectProblem(await act(dave, aliceToDave.body.challenge_id, 'accept'), 409, 'CANNOT_ACCEPT_CHALLENGE');
    expect((await playerState(dave)).liveMatch).toBeNull();
  });
});

describe('game creation after an accept', () => {
  it('the accepted challenge’s match reaches the workers’ game-creation queue and gets its game', async () => {
    const games = await startWorkers({
      config: stack.config,
      logger: pino({ level: 'silent' }),
      store: stack.store,
      redis: stack.redis,
      db: stack.db.pool,
      roles: ['game-creation'],
    });
    const created: unknown[] = [];
    stack.liveGame.handle = (req, res) => {
      if (req.method !== 'POST') return json(res, 404, {});
      const body = req.body as { metadata: { match_id: string } };
      created.push(body);
      return json(res, 201, { game_id: `game-of-${body.metadata.match_id}` });
    };
    forwardGames = (tenantId, matchId) =>
      enqueueGameCreation(games.gameCreationQueue, stack.config, { tenantId, matchId });
    try {
      const [alice, bob] = [user(), user()];
      const bobEntry = (await join(bob)).body.queue_entry_id;
      const { body } = await challenge(alice, bob, { color: 'white', time_control: '10+0', mode: 'casual' });
      expect((await act(bob, body.challenge_id, 'accept')).status).toBe(200);
      await vi.waitFor(
        async () => expect(await matchEvents(body.challenge_id)).toEqual(['MatchCreated', 'GameCreated']),
        { timeout: 20_000, interval: 100 },
      );
      expect(created).toEqual([
        expect.objectContaining({
          tenant_id: 'tenant-a',
          white_user_id: alice.id,
          black_user_id: bob.id,
          time_control: '10+0',
          mode: 'casual',
          metadata: expect.objectContaining({ match_id: body.challenge_id, source: 'challenge' }),
        }),
      ]);
      await stack.settle();
      expect((await get(alice, body.challenge_id)).body).toMatchObject({
        status: 'ACCEPTED',
        game_id: `game-of-${body.challenge_id}`,
      });
      const entry = await stack.request('GET', `/v1/matchmaking/queue/${bobEntry}`, { token: bob.token });
      expect(entry.body.status).toBe('CANCELLED');
      await vi.waitFor(async () => expect((await playerState(bob)).liveMatch).toBeNull(), { timeout: 10_000 });
    } finally {
      forwardGames = null;
      stack.liveGame.handle = (_req, res) => json(res, 404, {});
      await games.close();
    }
  }, 40_000);
});

describe('decline and cancel', () => {
  it('the opponent declines with a reason (default generic); then nobody can answer it', async () => {
    const [alice, bob] = [user(), user()];
    const a = await challenge(alice, bob);
    const res = await act(bob, a.body.challenge_id, 'decline', { reason: 'too_fast' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'DECLINED', decline_reason: 'too_fast' });
    expect(await challengeEvents(a.body.challenge_id)).toEqual(['ChallengeIssued', 'ChallengeDeclined']);
    expect(await playerEvents(alice)).toEqual(['ChallengeSent', 'ChallengeSettled']);
    expectProblem(await act(bob, a.body.challenge_id, 'accept'), 409, 'INVALID_CHALLENGE_STATE');
    expectProblem(await act(bob, a.body.challenge_id, 'decline'), 409, 'INVALID_CHALLENGE_STATE');
    expectProblem(await act(alice, a.body.challenge_id, 'cancel'), 409, 'INVALID_CHALLENGE_STATE');

    const b = await challenge(alice, bob);
    expect((await act(bob, b.body.challenge_id, 'decline')).body).toMatchObject({ decline_reason: 'generic' });
  });

  it('decline: 400 for a reason outside the set, 403 for the challenger; no event', async () => {
    const [alice, bob] = [user(), user()];
    const { body } = await challenge(alice, bob);
    const before = (await stack.allEvents()).length;
    expectProblem(await act(bob, body.challenge_id, 'decline', { reason: 'rude' }), 400, 'VALIDATION_FAILED');
    expectProblem(await act(bob, body.challenge_id, 'decline', { reason: 'later', x: 1 }), 400, 'VALIDATION_FAILED');
    expectProblem(await act(alice, body.challenge_id, 'decline'), 403, 'NOT_ALLOWED');
    expect((await stack.allEvents()).length).toBe(before);
  });

  it('the challenger cancels (the opponent cannot); accepting afterwards is 409', async () => {
    const [alice, bob] = [user(), user()];
    const { body } = await challenge(alice, bob);
    expectProblem(await act(bob, body.challenge_id, 'cancel'), 403, 'NOT_ALLOWED');
    const res = await act(alice, body.challenge_id, 'cancel');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELLED');
    expect(await challengeEvents(body.challenge_id)).toEqual(['ChallengeIssued', 'ChallengeCancelled']);
    expectProblem(await act(bob, body.challenge_id, 'accept'), 409, 'INVALID_CHALLENGE_STATE');
    expectProblem(await act(alice, body.challenge_id, 'cancel'), 409, 'INVALID_CHALLENGE_STATE');
  });
});

describe('races: exactly one outcome wins', () => {
  const terminal = new Set(['ChallengeAccepted', 'ChallengeDeclined', 'ChallengeCancelled', 'ChallengeExpired']);
  const outcomeOf = async (id: string) => (await challengeEvents(id)).filter((t) => terminal.has(t));

  it('accept vs cancel', async () => {
    for (let i = 0; i < 6; i++) {
      const [alice, bob] = [user(), user()];
      await join(bob);
      const { body } = await challenge(alice, bob);
      const [accepted, cancelled] = await Promise.all([
        act(bob, body.challenge_id, 'accept'),
        act(alice, body.challenge_id, 'cancel'),
      ]);
      const outcome = await outcomeOf(body.challenge_id);
      expect(outcome).toHaveLength(1);
      if (outcome[0] === 'ChallengeAccepted') {
        expect([accepted.status, cancelled.status]).toEqual([200, 409]);
        expect(await matchEvents(body.challenge_id)).toEqual(['MatchCreated']);
      } else {
        expect(outcome).toEqual(['ChallengeCancelled']);
        expect([accepted.status, cancelled.status]).toEqual([409, 200]);
        expect(await matchEvents(body.challenge_id)).toEqual([]);
        // nobody stays reserved, and bob's entry searches again
        expect((await playerState(alice)).liveMatch).toBeNull();
        const bobState = await playerState(bob);
        expect(bobState.liveMatch).toBeNull();
        expect(bobState.entries[bobState.activeEntryId!]?.status).toBe('searching');
      }
    }
  });

  it('two accepts: one ChallengeAccepted, one match', async () => {
    const [alice, bob] = [user(), user()];
    const { body } = await challenge(alice, bob);
    const results = await Promise.all([1, 2, 3].map(() => act(bob, body.challenge_id, 'accept')));
    // a repeat of the same accept is not an error (the flow no-ops); only exhausted contention retries may 503
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([200, 503]).toContain(r.status);
    expect(await outcomeOf(body.challenge_id)).toEqual(['ChallengeAccepted']);
    expect(await matchEvents(body.challenge_id)).toEqual(['MatchCreated']);
    const claims = (await playerEvents(bob)).filter((t) => t === 'ChallengeMatchClaimed');
    expect(claims).toHaveLength(1);
  });

  it('accept vs expire (the expiry job running at the deadline)', async () => {
    for (let i = 0; i < 4; i++) {
      const [alice, bob] = [user(), user()];
      const { body } = await challenge(alice, bob);
      const [accepted, driven] = await Promise.all([
        act(bob, body.challenge_id, 'accept'),
        driveChallenge(
          {
            store: stack.store,
            ratings: fixedRatingProvider(1500),
            now: new Date(Date.parse(body.expires_at) + 1),
          },
          { tenantId: 'tenant-a', challengeId: body.challenge_id },
        ),
      ]);
      const outcome = await outcomeOf(body.challenge_id);
      expect(outcome).toHaveLength(1);
      if (outcome[0] === 'ChallengeAccepted') {
        expect(accepted.status).toBe(200);
        expect(driven.outcome).toBe('completed');
        expect(await matchEvents(body.challenge_id)).toEqual(['MatchCreated']);
      } else {
        expect(outcome).toEqual(['ChallengeExpired']);
        expectProblem(accepted, 409, 'INVALID_CHALLENGE_STATE');
        expect(driven.outcome).toBe('expired');
        expect(await matchEvents(body.challenge_id)).toEqual([]);
        expect((await playerState(alice)).liveMatch).toBeNull();
        expect((await playerState(bob)).liveMatch).toBeNull();
      }
    }
  });
});

describe('GET /v1/matchmaking/challenges/{id}', () => {
  it('either party sees it right away (stream) and after projection (read model), with the game once created', async () => {
    const [alice, bob, eve] = [user(), user(), user()];
    const { body } = await challenge(alice, bob);
    for (const who of [alice, bob]) expect((await get(who, body.challenge_id)).body).toEqual(body);
    expectProblem(await get(eve, body.challenge_id), 404, 'CHALLENGE_NOT_FOUND');
    expectProblem(
      await get({ ...alice, token: playerToken('tenant-b', alice.id) }, body.challenge_id),
      404,
      'CHALLENGE_NOT_FOUND',
    );
    await act(bob, body.challenge_id, 'accept');
    const metadata: EventMetadata = {
      tenantId: 'tenant-a',
      correlationId: 'test',
      causationId: null,
      actor: { type: 'service', id: 'test' },
    };
    const game = await handleCommand({
      store: stack.store,
      streamName: matchStream(body.challenge_id),
      decider: matchDecider,
      command: {
        type: 'RecordGameCreated',
        matchId: body.challenge_id,
        gameId: 'game-1',
        now: new Date().toISOString(),
      },
      metadata,
    });
    expect(game.ok).toBe(true);
    await stack.settle();
    for (const who of [alice, bob])
      expect((await get(who, body.challenge_id)).body).toMatchObject({
        status: 'ACCEPTED',
        match_id: body.challenge_id,
        game_id: 'game-1',
      });
    expectProblem(await get(eve, body.challenge_id), 404, 'CHALLENGE_NOT_FOUND');
    expectProblem(
      await get({ ...bob, token: playerToken('tenant-b', bob.id) }, body.challenge_id),
      404,
      'CHALLENGE_NOT_FOUND',
    );
  });
});

describe('GET /v1/matchmaking/challenges/incoming and /outgoing', () => {
  it('lists pending challenges newest first, paginated with an opaque cursor', async () => {
    const bob = user();
    const challengers = [user(), user(), user(), user()];
    const ids: string[] = [];
    for (const c of challengers) ids.push((await challenge(c, bob)).body.challenge_id);
    await act(bob, ids[1]!, 'decline');
    // other tenants and other users' challenges never show
    await challenge(user('tenant-b'), { ...bob, tenant: 'tenant-b' });
    await stack.settle();

    const page1 = await stack.request('GET', '/v1/matchmaking/challenges/incoming?limit=2', { token: bob.token });
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((c: { challenge_id: string }) => c.challenge_id)).toEqual([ids[3], ids[2]]);
    expect(typeof page1.body.next_cursor).toBe('string');
    const page2 = await stack.request(
      'GET',
      `/v1/matchmaking/challenges/incoming?limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`,
      { token: bob.token },
    );
    expect(page2.body.items.map((c: { challenge_id: string }) => c.challenge_id)).toEqual([ids[0]]);
    expect(page2.body.next_cursor).toBeNull();
    expect(page2.body.items[0]).toMatchObject({
      status: 'PENDING',
      challenger_id: challengers[0]!.id,
      opponent_id: bob.id,
    });

    const outgoing = await stack.request('GET', '/v1/matchmaking/challenges/outgoing', {
      token: challengers[0]!.token,
    });
    expect(outgoing.body).toEqual({ items: [page2.body.items[0]], next_cursor: null });
    const none = await stack.request('GET', '/v1/matchmaking/challenges/outgoing', { token: bob.token });
    expect(none.body).toEqual({ items: [], next_cursor: null });
    const otherTenant = await stack.request('GET', '/v1/matchmaking/challenges/incoming', {
      token: playerToken('tenant-c', bob.id),
    });
    expect(otherTenant.body.items).toEqual([]);
  });

  it('hides challenges past their expiry', async () => {
    const [alice, bob] = [user(), user()];
    await challenge(alice, bob);
    await stack.settle();
    clockOffsetMs = (TTL_SECONDS + 1) * 1000;
    try {
      const res = await stack.request('GET', '/v1/matchmaking/challenges/incoming', { token: bob.token });
      expect(res.body.items).toEqual([]);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it.each([
    ['limit=0', 'VALIDATION_FAILED'],
    ['limit=101', 'VALIDATION_FAILED'],
    ['limit=abc', 'VALIDATION_FAILED'],
    ['limit=1&limit=2', 'VALIDATION_FAILED'],
    ['foo=1', 'VALIDATION_FAILED'],
    ['cursor=not-a-cursor', 'INVALID_CURSOR'],
    [`cursor=${Buffer.from('["nope","x"]').toString('base64url')}`, 'INVALID_CURSOR'],
  ])('400 for %s', async (query, code) => {
    const res = await stack.request('GET', `/v1/matchmaking/challenges/incoming?${query}`, { token: user().token });
    expectProblem(res, 400, code);
  });
});

describe('the challenge workers', () => {
  it('the expiry job appends ChallengeExpired at expires_at and frees the challenger’s slot', async () => {
    const [alice, bob] = [user(), user()];
    // issue "in the past" so the challenge is due in ~1.5 s of real time
    clockOffsetMs = -(TTL_SECONDS * 1000 - 1500);
    let id: string;
    try {
      const res = await challenge(alice, bob);
      expect(res.status).toBe(201);
      id = res.body.challenge_id;
    } finally {
      clockOffsetMs = 0;
    }
    // two appends, one after the other (endChallenge): the challenge's end, then the challenger's settlement
    await vi.waitFor(
      async () => {
        expect(await challengeEvents(id)).toEqual(['ChallengeIssued', 'ChallengeExpired']);
        expect(await playerEvents(alice)).toEqual(['ChallengeSent', 'ChallengeSettled']);
      },
      { timeout: 30_000, interval: 200 },
    );
    const [, expired] = await stack.store.readStream(challengeStream(id));
    expect(expired?.metadata.actor).toEqual({ type: 'system', id: 'challenge-worker' });
    await stack.settle();
    expect((await get(alice, id)).body.status).toBe('EXPIRED');
    expect(await workers.queue.getJob(id)).toBeUndefined();
  }, 40_000);

  it('completes an accept that stopped right after its commit point (match, confirmations)', async () => {
    const [alice, bob] = [user(), user()];
    await join(bob);
    const { body } = await challenge(alice, bob);
    const metadata: EventMetadata = {
      tenantId: 'tenant-a',
      correlationId: 'crashed-accept',
      causationId: null,
      actor: { type: 'user', id: bob.id },
    };
    const now = new Date().toISOString();
    // what the accept flow appends before its commit point, then the commit, then a "crash"
    for (const [u, role, other] of [
      [alice, 'challenger', bob],
      [bob, 'opponent', alice],
    ] as const) {
      const claimed = await handleCommand({
        store: stack.store,
        streamName: playerStream(u.tenant, u.id),
        decider: playerDecider,
        command: {
          type: 'ClaimForChallenge',
          userId: u.id,
          challengeId: body.challenge_id,
          matchId: body.challenge_id,
          role,
          opponentId: other.id,
          now,
        },
        metadata,
      });
      expect(claimed.ok).toBe(true);
    }
    const committed = await handleCommand({
      store: stack.store,
      streamName: challengeStream(body.challenge_id),
      decider: challengeDecider,
      command: {
        type: 'AcceptChallenge',
        challengeId: body.challenge_id,
        userId: bob.id,
        matchId: body.challenge_id,
        now,
      },
      metadata,
    });
    expect(committed.ok).toBe(true);
    expect(await matchEvents(body.challenge_id)).toEqual([]);

    const requested: string[] = [];
    const result = await driveChallenge(
      {
        store: stack.store,
        ratings: fixedRatingProvider(1500),
        now: new Date(),
        gameCreation: { request: async (_t, matchId) => void requested.push(matchId) },
      },
      { tenantId: 'tenant-a', challengeId: body.challenge_id },
    );
    expect(result).toEqual({ outcome: 'completed' });
    expect(requested).toEqual([body.challenge_id]);
    expect(await matchEvents(body.challenge_id)).toEqual(['MatchCreated']);
    const bobEvents = await stack.store.readStream(playerStream(bob.tenant, bob.id));
    expect(bobEvents.find((e) => e.type === 'QueueCancelled')?.data).toMatchObject({ reason: 'challenge_accepted' });
    expect(await playerEvents(alice)).toEqual(['ChallengeSent', 'ChallengeMatchClaimed', 'ChallengeSettled']);
    // idempotent: running it again appends nothing
    const count = (await stack.allEvents()).length;
    await driveChallenge(
      { store: stack.store, ratings: fixedRatingProvider(1500), now: new Date() },
      { tenantId: 'tenant-a', challengeId: body.challenge_id },
    );
    expect((await stack.allEvents()).length).toBe(count);
    // a job naming the wrong tenant does nothing
    expect(
      await driveChallenge(
        { store: stack.store, ratings: fixedRatingProvider(1500), now: new Date() },
        { tenantId: 'tenant-b', challengeId: body.challenge_id },
      ),
    ).toEqual({ outcome: 'missing' });
  });

  it('the expiry job releases players left reserved by an accept that never committed', async () => {
    const [alice, bob] = [user(), user()];
    await join(bob);
    const { body } = await challenge(alice, bob);
    const claimed = await handleCommand({
      store: stack.store,
      streamName: playerStream(bob.tenant, bob.id),
      decider: playerDecider,
      command: {
        type: 'ClaimForChallenge',
        userId: bob.id,
        challengeId: body.challenge_id,
        matchId: body.challenge_id,
        role: 'opponent',
        opponentId: alice.id,
        now: new Date().toISOString(),
      },
      metadata: { tenantId: 'tenant-a', correlationId: 'c', causationId: null, actor: { type: 'user', id: bob.id } },
    });
    expect(claimed.ok).toBe(true);
    expect((await playerState(bob)).liveMatch).not.toBeNull();
    const early = await driveChallenge(
      { store: stack.store, ratings: fixedRatingProvider(1500), now: new Date() },
      { tenantId: 'tenant-a', challengeId: body.challenge_id },
    );
    expect(early).toEqual({ outcome: 'not_due', expiresAt: body.expires_at });
    const due = await driveChallenge(
      { store: stack.store, ratings: fixedRatingProvider(1500), now: new Date(Date.parse(body.expires_at)) },
      { tenantId: 'tenant-a', challengeId: body.challenge_id },
    );
    expect(due).toEqual({ outcome: 'expired' });
    const bobState = await playerState(bob);
    expect(bobState.liveMatch).toBeNull();
    expect(bobState.entries[bobState.activeEntryId!]?.status).toBe('searching');
    expect(await challengeEvents(body.challenge_id)).toEqual(['ChallengeIssued', 'ChallengeExpired']);
  });

  it('uses the configured queue', () => {
    expect(workers.queue.name).toBe(CHALLENGE_QUEUE);
  });
});

describe('the log of every challenge test above', () => {
  it('replays without a violation of I1–I5 (not "settled": some tests leave a flow mid-way on purpose)', async () => {
    const { violations } = auditLog(await stack.allEvents());
    expect(violations).toEqual([]);
  });
});

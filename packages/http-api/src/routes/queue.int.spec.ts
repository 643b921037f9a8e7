import { playerStream } from '@mm/contracts';
import { handleCommand, playerDecider } from '@mm/domain';
import { adminToken, json, playerToken } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

let n = 0;
/** A fresh user per test so tests do not see each other's entries. */
const user = (tenant = 'tenant-a') => {
  n += 1;
  const id = `user-${n}-${Math.random().toString(36).slice(2, 8)}`;
  return { tenant, id, token: playerToken(tenant, id) };
};
const join = (
  token: string,
  body: unknown = { time_control: '3+0', mode: 'rated' },
  headers?: Record<string, string>,
) => stack.request('POST', '/v1/matchmaking/queue', { token, body, ...(headers ? { headers } : {}) });

const eventsOf = async (tenant: string, userId: string) =>
  (await stack.store.readStream(playerStream(tenant, userId))).map((e) => e.type);

describe('POST /v1/matchmaking/queue', () => {
  it('joins the queue: 201 with the entry, its window and place', async () => {
    const alice = user();
    const res = await join(alice.token, { time_control: '5+3', mode: 'casual', rating_range: { min: 1450 } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/matchmaking/queue/${res.body.queue_entry_id}`);
    expect(res.body).toMatchObject({
      status: 'SEARCHING',
      pool: { key: '5+3:casual', time_control: '5+3', mode: 'casual' },
      rating: 1500,
      rating_range: { min: 1450 },
      rating_window: { low: 1450, high: 1600 },
      match_id: null,
      game_id: null,
    });
    expect(await eventsOf(alice.tenant, alice.id)).toEqual(['QueueJoined']);
    const [joined] = await stack.store.readStream(playerStream(alice.tenant, alice.id));
    expect(joined?.metadata).toMatchObject({
      tenantId: 'tenant-a',
      actor: { type: 'user', id: alice.id },
      correlationId: res.headers.get('x-request-id'),
    });
    expect(joined?.data).toMatchObject({ rating: 1500, ratingSource: 'rating-api' });
  });

  it('409 ALREADY_IN_QUEUE for a second join, with no second event', async () => {
    const bob = user();
    expect((await join(bob.token)).status).toBe(201);
    const second = await join(bob.token, { time_control: '1+0', mode: 'rated' });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(second.body).toMatchObject({ status: 409, code: 'ALREADY_IN_QUEUE' });
    expect(await eventsOf(bob.tenant, bob.id)).toEqual(['QueueJoined']);
  });

  it('concurrent double joins make exactly one entry; the others get 409', async () => {
    const carol = user();
    const results = await Promise.all(Array.from({ length: 8 }, () => join(carol.token)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'ALREADY_IN_QUEUE')).toBe(true);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    expect(await eventsOf(carol.tenant, carol.id)).toEqual(['QueueJoined']);
  });

  it('409 ACTIVE_GAME_EXISTS when live-game-api reports an active game', async () => {
    const dave = user();
    stack.liveGame.handle = (req, res) =>
      req.url.includes(encodeURIComponent(dave.id)) ? json(res, 200, { game_id: 'g-42' }) : json(res, 404, {});
    try {
      const res = await join(dave.token);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'ACTIVE_GAME_EXISTS', game_id: 'g-42' });
      expect(await eventsOf(dave.tenant, dave.id)).toEqual([]);
    } finally {
      stack.liveGame.handle = (_req, res) => json(res, 404, {});
    }
  });

  it('allows the join (policy "allow") when the active-game check fails', async () => {
    const erin = user();
    stack.liveGame.handle = (_req, res) => json(res, 503, {});
    try {
      expect((await join(erin.token)).status).toBe(201);
    } finally {
      stack.liveGame.handle = (_req, res) => json(res, 404, {});
    }
  });

  it('uses the fallback rating when rating-api is down', async () => {
    const frank = user();
    stack.ratingApi.handle = (_req, res) => json(res, 500, {});
    try {
      const res = await join(frank.token);
      expect(res.status).toBe(201);
      const [joined] = await stack.store.readStream(playerStream(frank.tenant, frank.id));
      expect(joined?.data).toMatchObject({ rating: 1500, ratingSource: 'fallback' });
    } finally {
      stack.ratingApi.handle = (_req, res) => json(res, 200, { rating: 1500 });
    }
  });
});

describe('bad input: 4xx problem+json, never 5xx, no event appended', () => {
  const cases: [string, { body?: unknown; rawBody?: string; headers?: Record<string, string> }, number, string][] = [
    ['wrong types', { body: { time_control: 3, mode: true } }, 400, 'VALIDATION_FAILED'],
    ['missing fields', { body: {} }, 400, 'VALIDATION_FAILED'],
    ['unknown fields', { body: { time_control: '3+0', mode: 'rated', admin: true } }, 400, 'VALIDATION_FAILED'],
    ['a bad mode', { body: { time_control: '3+0', mode: 'bullet' } }, 400, 'VALIDATION_FAILED'],
    [
      'an inverted range',
      { body: { time_control: '3+0', mode: 'rated', rating_range: { min: 9, max: 1 } } },
      400,
      'VALIDATION_FAILED',
    ],
    ['an unknown pool', { body: { time_control: '7+7', mode: 'rated' } }, 400, 'UNKNOWN_POOL'],
    [
      'malformed JSON',
      { rawBody: '{"time_control": "3+0",', headers: { 'content-type': 'application/json' } },
      400,
      'MALFORMED_JSON',
    ],
    ['a JSON scalar', { rawBody: '"3+0"', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
    [
      'a huge body',
      { body: { time_control: '3+0', mode: 'rated', pad: 'x'.repeat(100_000) } },
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a form body',
      { rawBody: 'time_control=3%2B0', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ];
  it.each(cases)('%s → %i %s', async (_name, options, status, code) => {
    const u = user();
    const before = (await stack.allEvents()).length;
    const res = await stack.request('POST', '/v1/matchmaking/queue', { token: u.token, ...options });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code });
    expect(typeof res.body.title).toBe('string');
    expect((await stack.allEvents()).length).toBe(before);
  });

  it('an unknown route is a 404 problem', async () => {
    const res = await stack.request('GET', '/v1/matchmaking/nope', { token: user().token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
  });
});

describe('DELETE /v1/matchmaking/queue/{id}', () => {
  it('cancels a searching entry; a second cancel is 409', async () => {
    const u = user();
    const { body } = await join(u.token);
    const res = await stack.request('DELETE', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ queue_entry_id: body.queue_entry_id, status: 'CANCELLED', rating_window: null });
    const again = await stack.request('DELETE', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CANNOT_CANCEL');
    expect(await eventsOf(u.tenant, u.id)).toEqual(['QueueJoined', 'QueueCancelled']);
    // after a cancel the user may join again
    expect((await join(u.token)).status).toBe(201);
  });

  it('404 for an unknown entry, and for another user or tenant’s entry', async () => {
    const owner = user();
    const { body } = await join(owner.token);
    const stranger = user();
    const otherTenant = playerToken('tenant-b', owner.id);
    for (const token of [owner.token, stranger.token, otherTenant]) {
      const id = token === owner.token ? 'no-such-entry' : body.queue_entry_id;
      const del = await stack.request('DELETE', `/v1/matchmaking/queue/${id}`, { token });
      expect(del.status).toBe(404);
      expect(del.body.code).toBe('QUEUE_ENTRY_NOT_FOUND');
      const get = await stack.request('GET', `/v1/matchmaking/queue/${id}`, { token });
      expect(get.status).toBe(404);
      // It says why an entry can be missing, retention and archives included.
      expect(get.body).toMatchObject({ code: 'QUEUE_ENTRY_NOT_FOUND', title: 'No such queue entry' });
      expect(get.body.detail).toMatch(
        /more than 7 days ago \(read-model retention\) and its events have been archived/,
      );
    }
    await stack.settle();
    expect(
      (await stack.request('GET', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: stranger.token })).status,
    ).toBe(404);
    expect(await eventsOf(owner.tenant, owner.id)).toEqual(['QueueJoined']);
  });

  it('409 CANNOT_CANCEL once the entry is matched', async () => {
    const u = user();
    const { body } = await join(u.token);
    const claim = await handleCommand({
      store: stack.store,
      streamName: playerStream(u.tenant, u.id),
      decider: playerDecider,
      command: {
        type: 'ClaimQueueEntry',
        userId: u.id,
        queueEntryId: body.queue_entry_id,
        matchId: 'match-1',
        opponent: { userId: 'someone', queueEntryId: 'e-x', rating: 1510 },
        now: new Date().toISOString(),
      },
      metadata: { tenantId: u.tenant, correlationId: 'c', causationId: null, actor: { type: 'service', id: 'test' } },
    });
    expect(claim.ok).toBe(true);
    const res = await stack.request('DELETE', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('CANNOT_CANCEL');
    const status = await stack.request('GET', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    expect(status.body).toMatchObject({ status: 'MATCHED', match_id: 'match-1', opponent_id: 'someone' });
    const active = await stack.request('GET', '/v1/matchmaking/active', { token: u.token });
    expect(active.body.match).toMatchObject({ match_id: 'match-1', opponent_id: 'someone', status: 'CREATING_GAME' });
    // a live match blocks joining again (I2)
    const rejoin = await join(u.token);
    expect(rejoin.status).toBe(409);
    expect(rejoin.body.code).toBe('ACTIVE_GAME_EXISTS');
  });
});

describe('GET /v1/matchmaking/queue/{id} and /active', () => {
  it('answers right after the join (stream fallback) and after projection (read model)', async () => {
    const u = user();
    const { body } = await join(u.token, { time_control: '10+0', mode: 'rated' });
    const early = await stack.request('GET', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    expect(early.status).toBe(200);
    expect(early.body.status).toBe('SEARCHING');
    await stack.settle();
    const late = await stack.request('GET', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    expect(late.body).toMatchObject({
      status: 'SEARCHING',
      position_estimate: 1,
      rating_window: { low: 1400, high: 1600 },
    });
    expect(late.body.time_in_queue_seconds).toBeGreaterThanOrEqual(0);
    const active = await stack.request('GET', '/v1/matchmaking/active', { token: u.token });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ queue_entry: { queue_entry_id: body.queue_entry_id }, match: null });
  });

  it('places entries by enqueue time', async () => {
    const first = user();
    const second = user();
    await join(first.token, { time_control: '15+10', mode: 'casual' });
    const { body } = await join(second.token, { time_control: '15+10', mode: 'casual' });
    await stack.settle();
    const res = await stack.request('GET', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: second.token });
    expect(res.body.position_estimate).toBe(2);
  });

  it('shows nothing active for a newcomer', async () => {
    const res = await stack.request('GET', '/v1/matchmaking/active', { token: user().token });
    expect(res.body).toEqual({ queue_entry: null, match: null });
  });
});

describe('GET /internal/queues/summary', () => {
  it('needs an admin or service role', async () => {
    const res = await stack.request('GET', '/internal/queues/summary', { token: user().token });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('counts searching entries per pool of the caller’s tenant', async () => {
    const tenant = `tenant-summary-${Date.now()}`;
    for (let i = 0; i < 3; i++) await join(user(tenant).token, { time_control: '2+1', mode: 'rated' });
    await join(user('tenant-other').token, { time_control: '2+1', mode: 'rated' });
    await stack.settle();
    const res = await stack.request('GET', '/internal/queues/summary', { token: adminToken(tenant) });
    expect(res.status).toBe(200);
    expect(res.body.pools).toEqual([
      {
        pool: { key: '2+1:rated', time_control: '2+1', mode: 'rated' },
        searching: 3,
        avg_wait_seconds: expect.any(Number),
        p95_wait_seconds: expect.any(Number),
        matches_last_minute: 0,
      },
    ]);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response and appends nothing on retry', async () => {
    const u = user();
    const headers = { 'idempotency-key': 'join-1' };
    const first = await join(u.token, undefined, headers);
    const retry = await join(u.token, undefined, headers);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await eventsOf(u.tenant, u.id)).toEqual(['QueueJoined']);

    const del = { 'idempotency-key': 'cancel-1' };
    const path = `/v1/matchmaking/queue/${first.body.queue_entry_id}`;
    const c1 = await stack.request('DELETE', path, { token: u.token, headers: del });
    const c2 = await stack.request('DELETE', path, { token: u.token, headers: del });
    expect([c1.status, c2.status]).toEqual([200, 200]);
    expect(await eventsOf(u.tenant, u.id)).toEqual(['QueueJoined', 'QueueCancelled']);
  });

  it('replays failures too, and rejects a key reused for another request', async () => {
    const u = user();
    await join(u.token);
    const headers = { 'idempotency-key': 'k-2' };
    const conflict = await join(u.token, { time_control: '1+0', mode: 'rated' }, headers);
    expect(conflict.status).toBe(409);
    const replay = await join(u.token, { time_control: '1+0', mode: 'rated' }, headers);
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const reused = await join(u.token, { time_control: '3+0', mode: 'casual' }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('scopes keys per user', async () => {
    const a = user();
    const b = user();
    const headers = { 'idempotency-key': 'same-key' };
    expect((await join(a.token, undefined, headers)).status).toBe(201);
    const other = await join(b.token, undefined, headers);
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('metrics', () => {
  it('records request latency by route template (no ids in labels) and append latency, not served on the public port', async () => {
    const u = user();
    const { body } = await join(u.token);
    await stack.request('GET', `/v1/matchmaking/queue/${body.queue_entry_id}`, { token: u.token });
    // The registry is served by the ops server (apps/api); the public port has no /metrics.
    expect((await stack.request('GET', '/metrics')).status).toBe(404);
    const res = { body: await stack.api.registry.metrics() };
    expect(res.body).toMatch(
      /^matchmaking_event_store_append_duration_seconds_count\{operation="append(_multi)?",outcome="ok"\} [1-9]/m,
    );
    expect(res.body).toContain(
      'matchmaking_http_request_duration_seconds_count{method="GET",route="/v1/matchmaking/queue/:queueEntryId",status="200"}',
    );
    expect(res.body).toMatch(
      /matchmaking_http_request_duration_seconds_count\{method="POST",route="\/v1\/matchmaking\/queue",status="201"\} \d+/,
    );
    expect(res.body).not.toContain(body.queue_entry_id);
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });
});

describe('GET /openapi.json', () => {
  it('serves the OpenAPI document', async () => {
    const res = await stack.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.paths['/v1/matchmaking/queue'].post.responses['409']).toBeDefined();
  });
});

describe('health', () => {
  it('GET /health and GET /ready', async () => {
    expect((await stack.request('GET', '/health')).body).toEqual({ status: 'ok' });
    const ready = await stack.request('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({
      event_store: { status: 'ok' },
      redis: { status: 'ok' },
      postgres: { status: 'ok' },
    });
  });
});

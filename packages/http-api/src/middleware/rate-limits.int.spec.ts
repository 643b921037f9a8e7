import type { AddressInfo } from 'node:net';
import { playerStream } from '@mm/contracts';
import {
  createTestRedis,
  deleteRedisPrefix,
  mintToken,
  playerToken,
  randomRedisPrefix,
  testRedisUrl,
} from '@mm/testing';
import express from 'express';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { createApp } from '../app.js';
import { errorHandler } from './errors.js';
import { commandRateLimits } from './rate-limits.js';

const USER_LIMIT = 3;
const TENANT_LIMIT = 5;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    RATE_LIMIT_WINDOW_SECONDS: '60',
    RATE_LIMIT_USER_COMMANDS: String(USER_LIMIT),
    RATE_LIMIT_TENANT_COMMANDS: String(TENANT_LIMIT),
  });
});
afterAll(() => stack?.stop());

let n = 0;
const user = (tenant: string) => {
  n += 1;
  const id = `rl-${n}-${Math.random().toString(36).slice(2, 8)}`;
  return { tenant, id, token: playerToken(tenant, id) };
};
const tenant = () => `tenant-rl-${Math.random().toString(36).slice(2, 8)}`;
const JOIN = { time_control: '3+0', mode: 'rated' };
const eventsOf = async (who: { tenant: string; id: string }) =>
  (await stack.store.readStream(playerStream(who.tenant, who.id))).map((e) => e.type);

describe('command rate limits', () => {
  it('refuses a user past RATE_LIMIT_USER_COMMANDS with 429 RATE_LIMITED, Retry-After and RateLimit-*; nothing is appended', async () => {
    const alice = user(tenant());
    const joined = await stack.request('POST', '/v1/matchmaking/queue', { token: alice.token, body: JOIN });
    expect(joined.status).toBe(201);
    expect(joined.headers.get('ratelimit-limit')).toBe(String(USER_LIMIT));
    expect(joined.headers.get('ratelimit-remaining')).toBe(String(USER_LIMIT - 1));
    expect(joined.headers.get('ratelimit-policy')).toBe(`${USER_LIMIT};w=60`);
    const id = joined.body.queue_entry_id as string;
    expect((await stack.request('DELETE', `/v1/matchmaking/queue/${id}`, { token: alice.token })).status).toBe(200);
    const again = await stack.request('POST', '/v1/matchmaking/queue', { token: alice.token, body: JOIN });
    expect(again.status).toBe(201);
    expect(again.headers.get('ratelimit-remaining')).toBe('0');
    const before = await eventsOf(alice);
    expect(before).toEqual(['QueueJoined', 'QueueCancelled', 'QueueJoined']);

    // The fourth command in the window: refused before its handler, whatever it is.
    const refused = await stack.request('DELETE', `/v1/matchmaking/queue/${again.body.queue_entry_id}`, {
      token: alice.token,
      headers: { 'idempotency-key': 'cancel-after-limit' },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      title: 'Too many commands',
      limit_scope: 'user',
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.retry_after_seconds).toBe(retryAfter);
    expect(refused.headers.get('ratelimit-limit')).toBe(String(USER_LIMIT));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('ratelimit-reset'))).toBe(retryAfter);
    const join = await stack.request('POST', '/v1/matchmaking/queue', { token: alice.token, body: JOIN });
    expect(join.status).toBe(429);
    expect(await eventsOf(alice)).toEqual(before);

    // Queries are not commands: never limited, no RateLimit headers.
    const active = await stack.request('GET', '/v1/matchmaking/active', { token: alice.token });
    expect(active.status).toBe(200);
    expect(active.headers.get('ratelimit-limit')).toBeNull();
    expect(active.body.queue_entry.status).toBe('SEARCHING');
    // The refused Idempotency-Key was not stored: once allowed again, the key runs the command.
    const keys = await stack.db.pool.query(`SELECT 1 FROM "${stack.db.schema}".idempotency_keys WHERE key = $1`, [
      'cancel-after-limit',
    ]);
    expect(keys.rowCount).toBe(0);
  });

  it("limits a tenant's users together, across API instances sharing Redis", async () => {
    const t = tenant();
    // A second API instance over the same Redis prefix: the counters are shared.
    const { registry: _own, ...deps } = stack.api.deps; // each instance has its own metrics
    const second = createApp(deps).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => second.once('listening', () => resolve()));
    const secondUrl = `http://127.0.0.1:${(second.address() as AddressInfo).port}`;
    try {
      const players = Array.from({ length: TENANT_LIMIT + 1 }, () => user(t));
      const statuses: number[] = [];
      for (const [i, p] of players.entries()) {
        const res =
          i % 2 === 0
            ? await stack.request('POST', '/v1/matchmaking/queue', { token: p.token, body: JOIN })
            : await fetch(`${secondUrl}/v1/matchmaking/queue`, {
                method: 'POST',
                headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
                body: JSON.stringify(JOIN),
              }).then(async (r) => ({ status: r.status, body: await r.json(), headers: r.headers }));
        statuses.push(res.status);
        if (res.status === 429) {
          expect(res.body).toMatchObject({ code: 'RATE_LIMITED', limit_scope: 'tenant' });
          expect(res.headers.get('ratelimit-limit')).toBe(String(TENANT_LIMIT));
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        }
      }
      expect(statuses).toEqual([...Array(TENANT_LIMIT).fill(201), 429]);
      expect(await eventsOf(players.at(-1)!)).toEqual([]);
      // Another tenant is not affected.
      const other = user(tenant());
      expect((await stack.request('POST', '/v1/matchmaking/queue', { token: other.token, body: JOIN })).status).toBe(
        201,
      );
    } finally {
      second.closeAllConnections();
      await new Promise<void>((resolve) => second.close(() => resolve()));
    }
  });

  it('never limits service tokens (role service)', async () => {
    const t = tenant();
    const service = mintToken({ sub: 'rating-service', tenant_id: t, roles: ['service'] });
    const statuses: number[] = [];
    for (let i = 0; i < TENANT_LIMIT + 2; i += 1) {
      const joined = await stack.request('POST', '/v1/matchmaking/queue', { token: service, body: JOIN });
      statuses.push(joined.status);
      expect(joined.headers.get('ratelimit-limit')).toBeNull();
      if (joined.status !== 201) break;
      const id = joined.body.queue_entry_id as string;
      statuses.push((await stack.request('DELETE', `/v1/matchmaking/queue/${id}`, { token: service })).status);
    }
    expect(statuses).toEqual(
      Array((TENANT_LIMIT + 2) * 2)
        .fill(0)
        .map((_, i) => (i % 2 === 0 ? 201 : 200)),
    );
  });
});

describe('commandRateLimits', () => {
  it('is off when both limits are 0', () => {
    const redis = new Redis({ lazyConnect: true });
    const options = { redis, redisPrefix: 'x', windowSeconds: 60, exemptRoles: [], logger: pino({ level: 'silent' }) };
    expect(commandRateLimits({ ...options, perUser: 0, perTenant: 0 })).toEqual([]);
    expect(commandRateLimits({ ...options, perUser: 2, perTenant: 0 })).toHaveLength(1);
    redis.disconnect();
  });

  it('lets commands through while Redis is away, and limits again once it is back', async () => {
    const prefix = randomRedisPrefix('rl');
    // Like the API's client: no offline queue, so the script load at start-up fails at once.
    const away = new Redis(testRedisUrl(), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    away.disconnect(); // closed until connect(): every command fails at once
    const app = express();
    app.use((_req, res, next) => {
      res.locals.principal = { tenantId: 't', userId: 'u', roles: [] };
      next();
    });
    app.use(
      ...commandRateLimits({
        redis: away,
        redisPrefix: prefix,
        windowSeconds: 60,
        perUser: 1,
        perTenant: 0,
        exemptRoles: [],
        logger: pino({ level: 'silent' }),
      }),
    );
    app.post('/command', (_req, res) => {
      res.status(204).end();
    });
    app.use(errorHandler('1kb'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/command`;
    const send = () => fetch(url, { method: 'POST' }).then((r) => r.status);
    try {
      expect([await send(), await send(), await send()]).toEqual([204, 204, 204]);
      await away.connect();
      // The first increment after the reconnect finds the failed script load (let through) and loads
      // the script again; from then on the limit of 1 command holds.
      expect([await send(), await send(), await send(), await send()]).toEqual([204, 204, 429, 429]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const cleaner = createTestRedis();
      await deleteRedisPrefix(cleaner, prefix);
      cleaner.disconnect();
      away.disconnect();
    }
  });
});

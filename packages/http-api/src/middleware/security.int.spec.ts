import type { AddressInfo } from 'node:net';
import { playerToken } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { createApp } from '../app.js';

const ALLOWED = 'https://play.example.com';
const LOCAL_DEV = 'http://127.0.0.1:5173';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ CORS_ORIGINS: `${ALLOWED}, ${LOCAL_DEV}` });
});
afterAll(() => stack?.stop());

const token = playerToken('tenant-sec', 'carol');

describe('security headers (helmet)', () => {
  it('are on every answer: success, problem and page', async () => {
    for (const [path, status] of [
      ['/health', 200],
      ['/v1/matchmaking/active', 401],
      ['/docs', 200],
    ] as const) {
      const res = await stack.request('GET', path);
      expect(res.status, path).toBe(status);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });
});

describe('CORS allow-list (CORS_ORIGINS)', () => {
  it('lets an allowed origin read answers and the headers clients need', async () => {
    for (const origin of [ALLOWED, LOCAL_DEV]) {
      const res = await stack.request('GET', '/v1/matchmaking/active', { token, headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toMatch(/Origin/);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',');
      expect(exposed).toEqual(
        expect.arrayContaining(['Location', 'Retry-After', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-Request-Id']),
      );
    }
  });

  it('answers an allowed preflight without a token, and appends nothing', async () => {
    const before = (await stack.allEvents()).length;
    const res = await stack.request('OPTIONS', '/v1/matchmaking/queue', {
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST,DELETE');
    expect((res.headers.get('access-control-allow-headers') ?? '').split(',')).toEqual(
      expect.arrayContaining(['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID']),
    );
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect((await stack.allEvents()).length).toBe(before);
  });

  it('gives any other origin no CORS header (the browser keeps its page from reading the answer)', async () => {
    for (const origin of ['https://evil.example.com', 'https://play.example.com.evil.example', 'null']) {
      const read = await stack.request('GET', '/v1/matchmaking/active', { token, headers: { origin } });
      expect(read.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await stack.request('OPTIONS', '/v1/matchmaking/queue', {
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('allows no origin when CORS_ORIGINS is empty (the default)', async () => {
    const { registry: _own, ...deps } = stack.api.deps;
    const closed = createApp({ ...deps, config: { ...deps.config, CORS_ORIGINS: [] } }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => closed.once('listening', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      const read = await fetch(`${url}/v1/matchmaking/active`, {
        headers: { origin: ALLOWED, authorization: `Bearer ${token}` },
      });
      expect(read.status).toBe(200);
      expect(read.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${url}/v1/matchmaking/queue`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.status).toBe(401);
    } finally {
      closed.closeAllConnections();
      await new Promise<void>((resolve) => closed.close(() => resolve()));
    }
  });
});

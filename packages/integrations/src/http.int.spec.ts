import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, UpstreamError } from './http.js';

// A server that answers the first call on a connection and leaves later calls hanging, or
// closes the connection right after answering (to exercise the kept-alive socket paths).
let server: Server;
let base: string;
let calls = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    calls++;
    if (req.url === '/hang') return; // never answers
    if (req.url === '/close') {
      res.setHeader('connection', 'close');
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, url: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

describe('requestJson', () => {
  it('returns status and parsed body, reusing the connection', async () => {
    expect(await requestJson('t', `${base}/a`, { timeoutMs: 1000 })).toEqual({
      status: 200,
      body: { ok: true, url: '/a' },
    });
    expect(await requestJson('t', `${base}/b`, { method: 'POST', body: { x: 1 }, timeoutMs: 1000 })).toEqual({
      status: 200,
      body: { ok: true, url: '/b' },
    });
  });

  it('a timeout on a reused socket is one retryable UpstreamError, and nothing else fails later', async () => {
    await requestJson('t', `${base}/warm`, { timeoutMs: 1000 });
    const before = calls;
    const error = await requestJson('t', `${base}/hang`, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, message: 't: no answer within 100 ms' });
    // Nothing was retried after our own abort (a stray retry would be an unhandled rejection).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toBe(before + 1);
  });

  it('a server closing the connection after answering does not fail the next call', async () => {
    await requestJson('t', `${base}/close`, { timeoutMs: 1000 });
    expect((await requestJson('t', `${base}/after`, { timeoutMs: 1000 })).status).toBe(200);
  });

  it('an unreachable service is a retryable UpstreamError', async () => {
    const error = await requestJson('t', 'http://127.0.0.1:9/x', { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/^t: unreachable/);
  });
});

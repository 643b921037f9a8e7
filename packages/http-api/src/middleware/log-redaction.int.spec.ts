import { Writable } from 'node:stream';
import { playerToken } from '@mm/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';

/** Request logs keep the request and its answer, never a credential. */
describe('request logs', () => {
  const lines: string[] = [];
  let stack: TestStack;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    stack = await startTestStack({}, { logger: pino({ level: 'info' }, sink) });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('redact the bearer token and cookies of logged requests', async () => {
    const token = playerToken('t1', 'alice');
    const forged = `${token.slice(0, -4)}AAAA`;
    const bad = await fetch(`${stack.url}/v1/matchmaking/active`, {
      headers: { authorization: `Bearer ${forged}`, cookie: 'mm_queue_ui=secret-cookie-value' },
    });
    expect(bad.status).toBe(401);
    const missing = await fetch(`${stack.url}/v1/matchmaking/queue/00000000-0000-4000-8000-000000000000`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
    await new Promise((r) => setTimeout(r, 100));

    const logged = lines.filter((l) => l.includes('"req":'));
    expect(logged.length).toBeGreaterThanOrEqual(2);
    const all = logged.join('\n');
    expect(all).not.toContain(forged);
    expect(all).not.toContain(token);
    expect(all).not.toContain('secret-cookie-value');
    const entry = JSON.parse(logged.find((l) => l.includes('"statusCode":401'))!);
    expect(entry.req.headers.authorization).toBe('[redacted]');
    expect(entry.req.headers.cookie).toBe('[redacted]');
    expect(entry.req.url).toBe('/v1/matchmaking/active');
  });
});

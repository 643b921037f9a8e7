import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type OpsServer, startOpsServer } from './ops-server.js';
import { createMetricsRegistry } from './registry.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('ops server', () => {
  it('serves /metrics in the Prometheus text format, /health, and 404 elsewhere, on a port of its own', async () => {
    const registry = createMetricsRegistry();
    const counter = new Counter({ name: 'matchmaking_test_things_total', help: 'things', registers: [registry] });
    counter.inc(3);
    server = await startOpsServer({ registry, port: 0, host: '127.0.0.1' });
    expect(server.port).toBeGreaterThan(0);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^matchmaking_test_things_total 3$/m);
    expect(text).toContain('process_cpu_user_seconds_total');

    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${server.url}/v1/matchmaking/queue`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('/ready: 200 when every check answers, 503 naming the one that failed or timed out', async () => {
    let redisUp = true;
    server = await startOpsServer({
      registry: createMetricsRegistry({ defaultMetrics: false }),
      port: 0,
      host: '127.0.0.1',
      checkTimeoutMs: 200,
      checks: () => ({
        postgres: async () => undefined,
        redis: async () => {
          if (!redisUp) throw new Error('ECONNREFUSED');
        },
      }),
      info: () => ({ role: 'standby' }),
    });
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      role: 'standby',
      checks: { postgres: { status: 'ok' }, redis: { status: 'ok' } },
    });

    redisUp = false;
    const down = await fetch(`${server.url}/ready`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'not_ready',
      checks: { postgres: { status: 'ok' }, redis: { status: 'down', detail: 'ECONNREFUSED' } },
    });
    await server.close();

    server = await startOpsServer({
      registry: createMetricsRegistry({ defaultMetrics: false }),
      port: 0,
      host: '127.0.0.1',
      checkTimeoutMs: 100,
      checks: { event_store: () => new Promise(() => undefined) },
    });
    const hung = await fetch(`${server.url}/ready`);
    expect(hung.status).toBe(503);
    expect(await hung.json()).toMatchObject({
      checks: { event_store: { status: 'down', detail: 'no answer within 100 ms' } },
    });
  });

  it('fails to start on a port already in use (the process must not run without its ops port)', async () => {
    server = await startOpsServer({
      registry: createMetricsRegistry({ defaultMetrics: false }),
      port: 0,
      host: '127.0.0.1',
    });
    await expect(
      startOpsServer({
        registry: createMetricsRegistry({ defaultMetrics: false }),
        port: server.port,
        host: '127.0.0.1',
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

/**
 * The Grafana dashboard (infra/observability/grafana/dashboards/matchmaking.json) queries only
 * metrics the running service exposes: the API, the projector and a worker as separate
 * processes (packages/e2e stack) on real PostgreSQL and Redis, one match made and its game
 * created, then every process's ops port scraped and every metric name of every panel's PromQL
 * looked up among the samples.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardExpressions, metricNamesInPromQL, sampledMetricNames } from '@mm/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchmakingClient } from './driver/matchmaking-client.js';
import { sleep } from './driver/pacing.js';
import { repoRoot } from './stack/service-process.js';
import { type Stack, startStack } from './stack/stack.js';

/** Made by Prometheus itself for every target, not by our processes. */
const SCRAPE_SERIES = new Set(['up']);

const dashboard = JSON.parse(
  readFileSync(join(repoRoot, 'infra/observability/grafana/dashboards/matchmaking.json'), 'utf8'),
);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ workers: 1, label: 'e2e_metrics' });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('observability of a running stack', () => {
  it('exposes every metric the dashboard queries, on the ops ports only', async () => {
    const client = new MatchmakingClient(stack.apiUrl);
    const a = await client.join('t1', 'obs-a_r1500', '3+0', 'rated');
    const b = await client.join('t1', 'obs-b_r1520', '3+0', 'rated');
    expect([a.status, b.status]).toEqual([201, 201]);
    const deadline = Date.now() + 30_000;
    let view = a;
    while (Date.now() < deadline) {
      view = await client.entry('t1', 'obs-a_r1500', a.body.queue_entry_id);
      if (view.body?.game_id) break;
      await sleep(200);
    }
    if (!view.body?.game_id) stack.fail();
    expect(view.body.game_id).toBeTruthy();
    await sleep(1500); // a scheduler tick with its recovery sweep

    const processes = [stack.api, stack.projector, ...stack.workers];
    const exposed = new Set<string>();
    for (const service of processes) {
      const ops = await service.opsUrl();
      const metrics = await fetch(`${ops}/metrics`);
      expect(metrics.status, service.name).toBe(200);
      for (const name of sampledMetricNames(await metrics.text())) exposed.add(name);
      const ready = await fetch(`${ops}/ready`);
      expect(ready.status, `${service.name} /ready`).toBe(200);
    }
    // Not on the public port.
    expect((await fetch(`${stack.apiUrl}/metrics`)).status).toBe(404);

    const queried = dashboardExpressions(dashboard);
    expect(queried.length).toBeGreaterThan(20);
    const missing = queried.flatMap(({ panel, expr }) =>
      metricNamesInPromQL(expr)
        .filter((name) => !exposed.has(name) && !SCRAPE_SERIES.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(missing).toEqual([]);
  }, 120_000);
});

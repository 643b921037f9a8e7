/**
 * infra/observability/ as docker-compose.yml wires it (no Docker daemon here, so statically):
 * Prometheus scrapes each app's ops port under its compose service name, Grafana is provisioned
 * with that Prometheus and the dashboard, and the dashboard's queries are valid references. That
 * every metric it queries is exposed by the running processes is checked against a real stack by
 * packages/e2e/src/observability.e2e.spec.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPS_PORT_DEFAULTS } from '@mm/config';
import { dashboardExpressions, metricNamesInPromQL } from '@mm/metrics';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  image?: string;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  environment?: Record<string, string>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const prometheus = parse(read('infra/observability/prometheus.yml')) as {
  scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; type: string; port: number }[] }[];
};
const datasources = parse(read('infra/observability/grafana/provisioning/datasources/prometheus.yml')) as {
  datasources: { uid: string; type: string; url: string }[];
};
const providers = parse(read('infra/observability/grafana/provisioning/dashboards/matchmaking.yml')) as {
  providers: { options: { path: string } }[];
};
const dashboard = JSON.parse(read('infra/observability/grafana/dashboards/matchmaking.json'));

/** `./host/path:/container/path[:ro]` → [host, container]. */
const mounts = (service: Service) => (service.volumes ?? []).map((v) => v.split(':').slice(0, 2) as [string, string]);

describe('observability (infra/observability, docker-compose.yml)', () => {
  it("scrapes every app's ops port by its compose service name, never the public API port", () => {
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs?.[0]]));
    expect(Object.keys(jobs).sort()).toEqual(['api', 'projector', 'worker']);
    for (const app of ['api', 'projector', 'worker'] as const) {
      expect(jobs[app], app).toEqual({ names: [app], type: 'A', port: OPS_PORT_DEFAULTS[app] });
      expect(compose.services[app], `${app} is a compose service`).toBeDefined();
      expect(compose.services[app]!.environment?.OPS_PORT, `${app} keeps its default ops port`).toBeUndefined();
    }
    expect(JSON.stringify(prometheus)).not.toContain('8003');
  });

  it('health-checks the worker and the projector on their ops port', () => {
    for (const app of ['projector', 'worker'] as const) {
      const test = [compose.services[app]!.healthcheck!.test].flat().join(' ');
      expect(test).toContain(`http://127.0.0.1:${OPS_PORT_DEFAULTS[app]}/ready`);
    }
  });

  it('mounts the scrape config into Prometheus and the provisioning and dashboards into Grafana', () => {
    const prom = compose.services.prometheus!;
    expect(mounts(prom)).toContainEqual(['./infra/observability/prometheus.yml', '/etc/prometheus/prometheus.yml']);
    const grafana = compose.services.grafana!;
    expect(mounts(grafana)).toContainEqual(['./infra/observability/grafana/provisioning', '/etc/grafana/provisioning']);
    const dashboardsMount = mounts(grafana).find(([host]) => host === './infra/observability/grafana/dashboards');
    expect(dashboardsMount?.[1]).toBe(providers.providers[0]!.options.path);
    expect(Object.keys(grafana.depends_on ?? {})).toContain('prometheus');
    const [datasource] = datasources.datasources;
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
  });

  it('has a dashboard whose every query uses the provisioned datasource and names metrics of ours', () => {
    const uid = datasources.datasources[0]!.uid;
    const panels = (dashboard.panels as { type: string; datasource?: { uid: string }; targets?: unknown[] }[]).filter(
      (p) => p.type !== 'row',
    );
    expect(panels.length).toBeGreaterThanOrEqual(20);
    for (const panel of panels) expect(panel.datasource?.uid).toBe(uid);
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThanOrEqual(panels.length);
    const names = new Set(expressions.flatMap((e) => metricNamesInPromQL(e.expr)));
    for (const name of names)
      expect(name, 'a metric of ours, a Node.js process default, or Prometheus up').toMatch(
        /^(matchmaking_|process_|nodejs_|up$)/,
      );
    // The golden signals are there: traffic and errors, latency, saturation, and the pipeline.
    for (const name of [
      'matchmaking_http_request_duration_seconds_count',
      'matchmaking_http_request_duration_seconds_bucket',
      'matchmaking_matches_total',
      'matchmaking_pool_searching_entries',
      'matchmaking_pairing_pass_duration_seconds_bucket',
      'matchmaking_claim_conflicts_total',
      'matchmaking_game_creation_attempts_total',
      'matchmaking_recovery_sweeps_total',
      'matchmaking_projection_lag_events',
      'matchmaking_projection_lag_seconds',
      'matchmaking_projection_batch_duration_seconds_bucket',
      'matchmaking_queue_jobs',
      'matchmaking_queue_oldest_waiting_seconds',
      'matchmaking_event_store_append_duration_seconds_bucket',
    ])
      expect(names, name).toContain(name);
  });
});

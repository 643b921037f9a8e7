/**
 * docker-compose.yml cannot be run on these machines (no Docker daemon), so it is checked
 * statically: the service graph, health checks, Dockerfiles and every environment name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configKeys } from '@mm/config';
import { simEnvSchema } from '@mm/live-game-sim';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number | boolean> | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; interval?: string; retries?: number };
  deploy?: { replicas?: number };
  command?: string[] | string;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;

/** Our apps: compose service → workspace folder, and env names each may set beyond the shared config. */
const apps: Record<string, { folder: string; extraEnv: string[] }> = {
  api: { folder: 'apps/api', extraEnv: [] },
  projector: { folder: 'apps/projector', extraEnv: [] },
  worker: { folder: 'apps/worker', extraEnv: ['WORKER_ROLES'] },
  // NODE_ENV is not in the simulator's schema, but Express reads it (production error pages).
  'live-game-sim': { folder: 'apps/live-game-sim', extraEnv: ['NODE_ENV'] },
};

const envOf = (service: Service): Record<string, string> => {
  const environment = service.environment ?? {};
  if (Array.isArray(environment))
    return Object.fromEntries(environment.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value)]));
};

const dependenciesOf = (service: Service): Record<string, string> => {
  const dependsOn = service.depends_on ?? {};
  if (Array.isArray(dependsOn)) return Object.fromEntries(dependsOn.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(dependsOn).map(([name, { condition }]) => [name, condition]));
};

describe('docker-compose.yml', () => {
  it('has the engines, the apps and the observability pair, with a worker scaled to two', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'eventstore',
        'grafana',
        'live-game-sim',
        'postgres',
        'projector',
        'prometheus',
        'redis',
        'worker',
      ].sort(),
    );
    expect(services.worker!.deploy?.replicas).toBe(2);
  });

  it('runs EventStoreDB 24.10 LTS insecure, single node, with the standard projections ($ce- streams)', () => {
    const eventstore = services.eventstore!;
    expect(eventstore.image).toBe('docker.eventstore.com/eventstore/eventstore:24.10');
    expect(envOf(eventstore)).toMatchObject({
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_RUN_PROJECTIONS: 'All',
      EVENTSTORE_START_STANDARD_PROJECTIONS: 'true',
      EVENTSTORE_CLUSTER_SIZE: '1',
    });
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} has no healthcheck`).toBeDefined();
      const test = service.healthcheck!.test;
      expect(Array.isArray(test) ? test.length : test.length, `${name}: empty healthcheck`).toBeGreaterThan(1);
    }
  });

  it('depends only on services that exist, waits for health where there is one, and has no cycles', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, condition] of Object.entries(dependenciesOf(service))) {
        expect(services[target], `${name} depends on missing ${target}`).toBeDefined();
        expect(condition, `${name} → ${target}`).toBe(
          services[target]!.healthcheck ? 'service_healthy' : 'service_started',
        );
      }
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]) => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`dependency cycle: ${[...path, name].join(' → ')}`);
      state.set(name, 'visiting');
      for (const target of Object.keys(dependenciesOf(services[name]!))) visit(target, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of Object.keys(services)) visit(name, []);
  });

  it('starts the apps after the engines they use', () => {
    for (const name of ['api', 'projector', 'worker']) {
      expect(Object.keys(dependenciesOf(services[name]!))).toEqual(
        expect.arrayContaining(['eventstore', 'postgres', 'redis']),
      );
    }
    expect(Object.keys(dependenciesOf(services.api!))).toContain('live-game-sim');
    expect(Object.keys(dependenciesOf(services.worker!))).toContain('live-game-sim');
  });

  it('wires the apps to the engines by service name, the event store over esdb://', () => {
    for (const name of ['api', 'projector', 'worker']) {
      const env = envOf(services[name]!);
      expect(env.EVENT_STORE_URL).toBe('esdb://eventstore:2113?tls=false');
      expect(new URL(env.DATABASE_URL!).hostname).toBe('postgres');
      expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
      expect(new URL(env.LIVE_GAME_API_URL!).host).toBe(`live-game-sim:${envOf(services['live-game-sim']!).PORT}`);
      expect(env.JWT_SECRET, `${name} needs a JWT secret`).toBeTruthy();
    }
    expect(envOf(services['live-game-sim']!).HOST).toBe('0.0.0.0');
  });

  it('sets only environment names the apps read (config schema, simulator schema, documented extras)', () => {
    const simKeys = Object.keys(simEnvSchema.shape);
    for (const [name, { extraEnv }] of Object.entries(apps)) {
      const known = new Set<string>([...(name === 'live-game-sim' ? simKeys : configKeys), ...extraEnv]);
      const unknown = Object.keys(envOf(services[name]!)).filter((key) => !known.has(key));
      expect(unknown, `${name} sets unknown variables`).toEqual([]);
    }
  });

  it('builds each app from its own multi-stage Dockerfile, runs it compiled as a non-root user', () => {
    for (const [name, { folder }] of Object.entries(apps)) {
      const build = services[name]!.build!;
      expect(build, `${name} has no build`).toBeDefined();
      expect(build.context).toBe('.');
      expect(build.dockerfile).toBe(`${folder}/Dockerfile`);
      const path = join(root, build.dockerfile);
      expect(existsSync(path), `${path} missing`).toBe(true);
      const dockerfile = readFileSync(path, 'utf8');
      const stages = dockerfile.match(/^FROM\s+\S+(\s+AS\s+\S+)?/gim) ?? [];
      expect(stages.length, `${name}: multi-stage`).toBeGreaterThanOrEqual(2);
      expect(dockerfile).toMatch(/pnpm@12\.4\.2/);
      expect(dockerfile).toContain(`pnpm exec tsc -b ${folder}\n`);
      const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
      expect(user, `${name}: runtime stage sets USER`).toBeDefined();
      expect(['root', '0']).not.toContain(user);
      expect(runtime).toContain(`WORKDIR /repo/${folder}\n`);
      expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
      expect(existsSync(join(root, folder, 'src', 'main.ts')), `${folder}/src/main.ts`).toBe(true);
    }
  });

  it('keeps local build output and dependencies out of the build context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });

  it('declares the named volumes it mounts', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const service of Object.values(services) as Array<Service & { volumes?: string[] }>) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(declared).toContain(source);
      }
    }
  });
});

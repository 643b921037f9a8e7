import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * A local Redis Cluster for tests: three primaries on 127.0.0.1:<firstPort>…<firstPort + 2>,
 * started and stopped by infra/redis-cluster.sh (infra/services.sh installs redis-server and
 * redis-cli on Debian when it starts a local Redis).
 */

/** infra/redis-cluster.sh of the repository (found upwards from here: sources and dist/ alike). */
const script = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'infra', 'redis-cluster.sh');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('infra/redis-cluster.sh not found above packages/testing');
})();

/** Whether redis-server and redis-cli are on PATH (tests on a cluster are skipped without them). */
export const redisClusterToolsFound: boolean = ['redis-server', 'redis-cli'].every((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

export interface LocalRedisCluster {
  /** `host:port` of each primary (REDIS_CLUSTER_NODES). */
  nodes: string[];
  stop(): void;
}

/** Starts the three primaries (waits for cluster_state:ok); `stop()` stops them and removes their data. */
export function startLocalRedisCluster(firstPort: number): LocalRedisCluster {
  const dir = mkdtempSync(join(tmpdir(), 'mm-redis-cluster-'));
  execFileSync('bash', [script, 'start', dir, String(firstPort)], { stdio: 'pipe' });
  return {
    nodes: [0, 1, 2].map((i) => `127.0.0.1:${firstPort + i}`),
    stop: () => execFileSync('bash', [script, 'stop', dir], { stdio: 'pipe' }),
  };
}

import type { AddressInfo } from 'node:net';
import { keySlot, redisKeys } from '@mm/redis';
import { createRedisClient, type RedisClient } from '@mm/runtime';
import { type LocalRedisCluster, redisClusterToolsFound, startLocalRedisCluster } from '@mm/testing';
import express from 'express';
import type { Cluster } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from './errors.js';
import { commandRateLimits } from './rate-limits.js';

/*
 * The rate limits on a Redis Cluster (three primaries on 127.0.0.1:17003–17005, from
 * infra/redis-cluster.sh): users whose counters live on different nodes are each limited, so the
 * store's script is there on every primary (SCRIPT LOAD has no key and would reach one node only).
 */
const FIRST_PORT = 17003;
let local: LocalRedisCluster | undefined;
let redis: RedisClient | undefined;

beforeAll(() => {
  if (!redisClusterToolsFound) return;
  local = startLocalRedisCluster(FIRST_PORT);
  redis = createRedisClient({ url: 'redis://127.0.0.1:6379', clusterNodes: local.nodes }, { maxRetriesPerRequest: 2 });
}, 60_000);
afterAll(() => {
  redis?.disconnect();
  local?.stop();
});

describe.skipIf(!redisClusterToolsFound)(
  'command rate limits on Redis Cluster (needs redis-server and redis-cli on PATH)',
  () => {
    it('limits every user, whichever node holds their counter', async () => {
      const cluster = redis as Cluster;
      const prefix = 'rl-cluster';
      const keys = redisKeys(prefix);
      // Users whose counters fall on each of the three primaries.
      const nodeOf = (key: string) => cluster.slots[keySlot(key)]?.join();
      const users: string[] = [];
      const nodes = new Set<string | undefined>();
      if (cluster.status !== 'ready') await new Promise((resolve) => cluster.once('ready', resolve));
      for (let i = 0; nodes.size < 3 && i < 1000; i++) {
        const node = nodeOf(keys.rateLimitUser('t', `u${i}`));
        if (!nodes.has(node)) {
          nodes.add(node);
          users.push(`u${i}`);
        }
      }
      expect(users).toHaveLength(3);

      const app = express();
      app.use((req, res, next) => {
        res.locals.principal = { tenantId: 't', userId: String(req.headers['x-user']), roles: [] };
        next();
      });
      app.use(
        ...commandRateLimits({
          redis: cluster,
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
      const send = (user: string) => fetch(url, { method: 'POST', headers: { 'x-user': user } }).then((r) => r.status);
      try {
        for (const user of users) expect([await send(user), await send(user)], user).toEqual([204, 429]);
        for (const user of users) expect(Number(await cluster.get(keys.rateLimitUser('t', user)))).toBe(2);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  },
);

import { Router } from 'express';
import type { ApiDependencies } from '../dependencies.js';

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);

/** `GET /health`: the process is alive. `GET /ready`: event store, Redis and PostgreSQL answer. */
export function healthRoutes(deps: ApiDependencies): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const checks = {
      event_store: () => deps.store.ping(),
      redis: () => deps.redis.ping().then(() => undefined),
      postgres: () => deps.db.query('SELECT 1').then(() => undefined),
    };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          return [name, { status: 'ok' }] as const;
        } catch (error) {
          return [name, { status: 'down', detail: (error as Error).message }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  return router;
}

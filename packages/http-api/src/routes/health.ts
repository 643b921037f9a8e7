import { type ReadinessCheck, runReadinessChecks } from '@mm/metrics';
import { Router } from 'express';
import type { ApiDependencies } from '../dependencies.js';

/** What the API needs to answer: the event store, Redis and PostgreSQL (also the ops server's `/ready`). */
export const readinessChecks = (
  deps: Pick<ApiDependencies, 'store' | 'redis' | 'db'>,
): Record<string, ReadinessCheck> => ({
  event_store: () => deps.store.ping(),
  redis: () => deps.redis.ping(),
  postgres: () => deps.db.query('SELECT 1'),
});

/** `GET /health`: the process is alive. `GET /ready`: event store, Redis and PostgreSQL answer (2 s each). */
export function healthRoutes(deps: ApiDependencies): Router {
  const router = Router();
  const checks = readinessChecks(deps);
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await runReadinessChecks(checks);
    res.status(report.status === 'ready' ? 200 : 503).json(report);
  });
  return router;
}

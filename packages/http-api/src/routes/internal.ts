import { parsePoolKey, type QueueSummaryResponse } from '@mm/contracts';
import { Router } from 'express';
import type { ApiDependencies } from '../dependencies.js';
import { unavailableOrThrow } from '../errors/command-outcome.js';
import { principalOf, requireRole } from '../middleware/auth.js';

/** Operator routes; need an admin/service role. Scoped to the caller's tenant like everything else. */
export function internalRoutes(deps: ApiDependencies): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());
  router.use(requireRole(deps.config.ADMIN_ROLES));
  router.get('/queues/summary', async (_req, res) => {
    const principal = principalOf(res);
    const now = clock();
    const rows = await deps.queries.summary(principal.tenantId, now).catch(unavailableOrThrow);
    const body: QueueSummaryResponse = {
      generated_at: now.toISOString(),
      pools: rows.map((r) => ({
        pool: (({ timeControl, mode }) => ({ key: r.pool, time_control: timeControl, mode }))(parsePoolKey(r.pool)),
        searching: r.searching,
        avg_wait_seconds: Math.round(r.avgWaitSeconds * 10) / 10,
        p95_wait_seconds: Math.round(r.p95WaitSeconds * 10) / 10,
        matches_last_minute: r.matchesLastMinute,
      })),
    };
    res.json(body);
  });
  return router;
}

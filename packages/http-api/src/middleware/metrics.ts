import { createMetricsRegistry, metricOnce } from '@mm/metrics';
import type { NextFunction, Request, Response } from 'express';
import { Histogram, type Registry } from 'prom-client';

export const HTTP_REQUEST_SECONDS = 'matchmaking_http_request_duration_seconds';

/**
 * Prometheus metrics of one API instance: request latency by method, route template (never
 * the raw path: ids would explode the label set) and status code, in `registry` (the process's:
 * served on the ops port by apps/api, never on the public port).
 */
export function createApiMetrics(registry: Registry = createMetricsRegistry()) {
  const requestSeconds = metricOnce(
    registry,
    HTTP_REQUEST_SECONDS,
    () =>
      new Histogram({
        name: HTTP_REQUEST_SECONDS,
        help: 'HTTP request latency by method, route template and status',
        labelNames: ['method', 'route', 'status'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      }),
  );
  return {
    registry,
    middleware(req: Request, res: Response, next: NextFunction): void {
      const stop = requestSeconds.startTimer();
      res.on('finish', () => {
        const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        stop({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    },
  };
}

import { randomUUID } from 'node:crypto';
import express from 'express';
import { pinoHttp } from 'pino-http';
import { createEventFeed } from './application/event-feed.js';
import { createApplication } from './application/index.js';
import type { ApiDependencies } from './dependencies.js';
import { idempotency } from './idempotency/idempotency.js';
import { requireAuth } from './middleware/auth.js';
import { errorHandler, notFoundHandler, requireJson } from './middleware/errors.js';
import { createApiMetrics } from './middleware/metrics.js';
import { openApiDocument } from './openapi.js';
import { challengeRoutes } from './routes/challenges.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { internalRoutes } from './routes/internal.js';
import { queueRoutes } from './routes/queue.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The HTTP API: thin routes over the domain (commands) and the read models (queries). */
export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/ready' || req.url === '/metrics' },
    }),
  );
  const metrics = createApiMetrics();
  app.use(metrics.middleware);
  app.use(healthRoutes(deps));
  // Prometheus scrape endpoint (unauthenticated, like /health: expose it on the internal network only).
  app.get('/metrics', metrics.handler);
  const openapi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const limit = deps.config.REQUEST_BODY_LIMIT;
  app.use(requireJson, express.json({ limit, strict: true, type: 'application/json' }));

  const authenticated = [
    requireAuth(deps.authenticate),
    idempotency({ pool: deps.db, schema: deps.apiSchema, ttlSeconds: deps.config.IDEMPOTENCY_TTL_SECONDS }),
  ];
  const application = createApplication(deps);
  app.use('/v1/matchmaking', ...authenticated, queueRoutes(deps, application), challengeRoutes(deps, application));
  app.use('/internal', ...authenticated, internalRoutes(deps));
  const eventFeed = createEventFeed({
    store: deps.store,
    serviceRoles: deps.config.ADMIN_ROLES,
    platformRoles: deps.config.EVENT_FEED_PLATFORM_ROLES,
    batchSize: 1000,
  });
  const feedOptions = { heartbeatMs: deps.config.EVENT_FEED_HEARTBEAT_MS, registry: metrics.registry };
  app.use('/v1', eventRoutes(eventFeed, requireAuth(deps.authenticate), feedOptions));

  app.use(notFoundHandler);
  app.use(errorHandler(limit));
  return app;
}

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
import { commandRateLimits } from './middleware/rate-limits.js';
import { corsPolicy, securityHeaders } from './middleware/security.js';
import { openApiDocument } from './openapi.js';
import { challengeRoutes } from './routes/challenges.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { internalRoutes } from './routes/internal.js';
import { queueRoutes } from './routes/queue.js';
import { QUEUE_UI_PATH, queueUiRoutes } from './routes/queue-ui.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The HTTP API: thin routes over the domain (commands) and the read models (queries). */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);

/** A copy of `headers` with the values of credential headers replaced. */
export function redactHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!headers) return headers;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      SECRET_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value,
    ]),
  );
}

export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  // Security headers on every answer; CORS for the CORS_ORIGINS allow-list (preflights answered here).
  app.use(securityHeaders(), corsPolicy(deps.config.CORS_ORIGINS));

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
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/ready' },
      // Credentials never reach the logs: the bearer token, the queue UI's sign-in cookie.
      serializers: {
        req: (req: { headers?: Record<string, unknown> }) => ({ ...req, headers: redactHeaders(req.headers) }),
        res: (res: { headers?: Record<string, unknown> }) => ({ ...res, headers: redactHeaders(res.headers) }),
      },
    }),
  );
  // The registry is served on the ops port (apps/api), never here: /metrics is not public.
  const metrics = createApiMetrics(deps.registry);
  app.use(metrics.middleware);
  app.use(healthRoutes(deps));
  const openapi = openApiDocument(deps.config.API_PUBLIC_URL ? { serverUrl: deps.config.API_PUBLIC_URL } : {});
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(docsRoutes());

  // Bull Board (admin role): before the JSON-only body parsing, it posts its own forms and actions.
  if (deps.queueUi)
    app.use(
      QUEUE_UI_PATH,
      queueUiRoutes({ ...deps.queueUi, authenticate: deps.authenticate, roles: deps.config.ADMIN_ROLES }),
    );

  const limit = deps.config.REQUEST_BODY_LIMIT;
  app.use(requireJson, express.json({ limit, strict: true, type: 'application/json' }));

  const authenticate = requireAuth(deps.authenticate);
  const idempotent = idempotency({
    pool: deps.db,
    schema: deps.apiSchema,
    ttlSeconds: deps.config.IDEMPOTENCY_TTL_SECONDS,
  });
  // Commands are rate limited after authentication (the limits are per user and tenant) and
  // before the idempotency key is claimed: a refused command is not a stored answer.
  const rateLimits = commandRateLimits({
    redis: deps.redis,
    redisPrefix: deps.config.REDIS_PREFIX,
    windowSeconds: deps.config.RATE_LIMIT_WINDOW_SECONDS,
    perUser: deps.config.RATE_LIMIT_USER_COMMANDS,
    perTenant: deps.config.RATE_LIMIT_TENANT_COMMANDS,
    exemptRoles: deps.config.RATE_LIMIT_EXEMPT_ROLES,
    logger: deps.logger,
  });
  const application = createApplication(deps);
  app.use(
    '/v1/matchmaking',
    authenticate,
    ...rateLimits,
    idempotent,
    queueRoutes(deps, application),
    challengeRoutes(deps, application),
  );
  app.use('/internal', authenticate, idempotent, internalRoutes(deps));
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

import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers on every answer (helmet). The content security policy lets the pages the API
 * serves (the API reference at /docs, the queue UI) load their scripts, styles, images and
 * workers from this origin only: no page of ours can fetch anything from another site.
 * `upgrade-insecure-requests` is left out: the API is reached over plain HTTP on internal
 * networks and locally, TLS is terminated in front of it.
 */
export const securityHeaders = (): RequestHandler =>
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        // Redoc and the queue UI style their components at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        // Redoc's search index runs in a worker made from a blob.
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });

/** Headers a browser client may send, and may read from our answers. */
const REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'X-Request-Id'];
const EXPOSED_HEADERS = [
  'Location',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'RateLimit-Policy',
  'X-Request-Id',
  'Matchmaking-Live-Figures',
];

/**
 * CORS for the browser origins of `CORS_ORIGINS` only (exact match): an allowed origin gets
 * `Access-Control-Allow-Origin` and its preflights are answered 204; any other origin gets no
 * CORS header, so browsers keep its pages from reading our answers. Tokens travel in the
 * Authorization header, never in cookies: credentials are not allowed.
 */
export const corsPolicy = (origins: readonly string[]): RequestHandler =>
  cors({
    origin: origins.length > 0 ? [...origins] : false,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: REQUEST_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
    optionsSuccessStatus: 204,
  });

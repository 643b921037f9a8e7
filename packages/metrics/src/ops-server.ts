import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** One dependency `/ready` checks: resolves when it answers, rejects (or times out) when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, { status: 'ok' } | { status: 'down'; detail: string }>;
  /** What the process says about itself besides its checks (e.g. a projector's role). */
  [key: string]: unknown;
}

/** A check that does not answer within this is down. */
export const READINESS_TIMEOUT_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

/** Runs every check at once, each with a timeout; ready when all answered. */
export async function runReadinessChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(Promise.resolve().then(check), timeoutMs);
        return [name, { status: 'ok' }] as const;
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        return [name, { status: 'down', detail }] as const;
      }
    }),
  );
  const ready = results.every(([, result]) => result.status === 'ok');
  return { status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) };
}

export interface OpsServerOptions {
  registry: Registry;
  /** 0 = a free port (see {@link OpsServer.port}). */
  port: number;
  /** @defaultValue every interface */
  host?: string;
  /** What `/ready` checks (a name per dependency). @defaultValue none: ready while the process runs */
  checks?: Record<string, ReadinessCheck> | (() => Record<string, ReadinessCheck>);
  /** Added to the `/ready` body (e.g. `{ role: 'standby' }`). */
  info?: () => Record<string, unknown>;
  /** @defaultValue {@link READINESS_TIMEOUT_MS} */
  checkTimeoutMs?: number;
  logger?: Pick<Logger, 'warn'>;
}

export interface OpsServer {
  /** The port it listens on (the one the OS picked when asked for 0). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The ops endpoints of a process, on a port of their own that is not exposed to clients:
 * `GET /metrics` (Prometheus text format), `GET /health` (the process is alive) and
 * `GET /ready` (its dependencies answer: 200, else 503, with each check's result).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { registry } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const json = (status: number, body: unknown) => send(status, 'application/json', JSON.stringify(body));
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { status: 405, title: 'Method Not Allowed' });
    if (path === '/health') return json(200, { status: 'ok' });
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (error: unknown) => {
          options.logger?.warn({ err: error }, 'collecting metrics failed');
          json(500, { status: 500, title: 'metrics collection failed' });
        },
      );
      return;
    }
    if (path === '/ready') {
      const checks = typeof options.checks === 'function' ? options.checks() : (options.checks ?? {});
      runReadinessChecks(checks, options.checkTimeoutMs).then((report) => {
        const body = { ...report, ...options.info?.() };
        json(report.status === 'ready' ? 200 : 503, body);
      });
      return;
    }
    json(404, { status: 404, title: 'Not Found', detail: 'ops endpoints: /metrics, /health, /ready' });
  });
  // Scrapes and probes are short; an idle keep-alive connection must not hold close() up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubscriber, type Source, type Subscriber } from '@mm/subscriber';
import pg from 'pg';
import type { Logger } from 'pino';
import { historyHandlers, migrateHistory, playerHistory } from './history.js';

export interface PlayerHistoryOptions {
  /** The consumer's own PostgreSQL. */
  databaseUrl: string;
  /** Schema of its tables (history and the kit's checkpoint/dead letters). */
  schema: string;
  /** Where events come from: usually `httpFeedSource({ url, token })`. */
  source: Source;
  /** The tenant `GET /players/{user}/history` answers for when no `?tenant=` is given. */
  defaultTenant?: string;
  /** @defaultValue 0 (any free port) */
  port?: number;
  logger: Logger;
}

export interface PlayerHistoryService {
  url: string;
  subscriber: Subscriber;
  close(): Promise<void>;
}

const send = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/** The example consumer: follows the feed with the kit and serves each player's history. */
export async function startPlayerHistory(options: PlayerHistoryOptions): Promise<PlayerHistoryService> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4, application_name: 'player-history' });
  // A connection dropped while idle must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'idle PostgreSQL connection lost'));
  await migrateHistory(pool, options.schema);
  const subscriber = createSubscriber({
    name: 'player-history',
    source: options.source,
    db: pool,
    schema: options.schema,
    handlers: historyHandlers(options.schema),
    onError: (error, { event, attempt }) =>
      options.logger.warn({ err: error, position: event?.position, type: event?.type, attempt }, 'subscriber error'),
    onDeadLetter: (event, error) =>
      options.logger.error({ position: event.position, type: event.type, error: String(error) }, 'event parked'),
  });
  await subscriber.start();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const history = /^\/players\/([^/]+)\/history$/.exec(url.pathname);
    const route = async () => {
      if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
      if (history) {
        const tenant = url.searchParams.get('tenant') ?? options.defaultTenant;
        if (!tenant) return send(res, 400, { error: 'give ?tenant=' });
        const user = decodeURIComponent(history[1]!);
        const body = await playerHistory(pool, options.schema, tenant, user);
        if (!body) return send(res, 404, { error: `no history for ${user} in ${tenant}` });
        return send(res, 200, { ...body, as_of_position: subscriber.stats().position });
      }
      if (url.pathname === '/health') return send(res, 200, { status: 'ok' });
      if (url.pathname === '/ready')
        return send(res, subscriber.stats().running ? 200 : 503, { running: subscriber.stats().running });
      if (url.pathname === '/stats') {
        const { failure, ...stats } = subscriber.stats();
        return send(res, 200, {
          ...stats,
          failure: failure ? String(failure) : null,
          lag: await subscriber.lag().catch(() => null),
        });
      }
      return send(res, 404, { error: 'not found' });
    };
    route().catch((error: unknown) => {
      options.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port, position: subscriber.stats().position }, 'player history started');

  return {
    url: `http://127.0.0.1:${port}`,
    subscriber,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await subscriber.stop();
      await pool.end();
    },
  };
}

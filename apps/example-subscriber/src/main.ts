import { httpFeedSource } from '@mm/subscriber';
import { pino } from 'pino';
import { startPlayerHistory } from './app.js';
import { serviceTokens } from './token.js';

/*
 * The example consumer as a process (pnpm start runs it):
 *   FEED_URL            the matchmaking API (default http://127.0.0.1:8003)
 *   FEED_TOKEN          a service token; otherwise one is minted from JWT_SECRET (+ JWT_ISSUER/JWT_AUDIENCE)
 *   FEED_TENANT         the tenant to follow (default tenant-1); "*" = every tenant (a platform token)
 *   PLAYER_HISTORY_DATABASE_URL  its own PostgreSQL (default DATABASE_URL, else the local one)
 *   PLAYER_HISTORY_SCHEMA        its schema (default player_history)
 *   PLAYER_HISTORY_PORT          its HTTP port (default 8004)
 */
const env = process.env;
const logger = pino({ name: 'player-history', level: env.LOG_LEVEL ?? 'info' });
const tenant = env.FEED_TENANT ?? 'tenant-1';
const allTenants = tenant === '*';
let token: string | (() => string);
if (env.FEED_TOKEN) token = env.FEED_TOKEN;
else if (env.JWT_SECRET)
  token = serviceTokens({
    secret: env.JWT_SECRET,
    tenant: allTenants ? 'platform' : tenant,
    role: allTenants ? 'platform' : 'service',
    ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
    ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
  });
else {
  logger.fatal('set FEED_TOKEN, or JWT_SECRET to mint a service token');
  process.exit(2);
}

const service = await startPlayerHistory({
  databaseUrl: env.PLAYER_HISTORY_DATABASE_URL ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking',
  schema: env.PLAYER_HISTORY_SCHEMA ?? 'player_history',
  source: httpFeedSource({
    url: env.FEED_URL ?? 'http://127.0.0.1:8003',
    token,
    onReconnect: (error, delayMs) => logger.warn({ error: String(error), delayMs }, 'event feed: reconnecting'),
  }),
  ...(allTenants ? {} : { defaultTenant: tenant }),
  port: Number(env.PLAYER_HISTORY_PORT ?? 8004),
  logger,
});

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: the event in flight finishes, then the checkpoint is where the effects are');
  await service.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
void service.subscriber.done.then(() => {
  const failure = service.subscriber.stats().failure;
  if (failure && !stopping) {
    logger.fatal({ err: failure }, 'subscriber stopped');
    process.exit(1);
  }
});

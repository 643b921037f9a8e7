import type { Config } from '@mm/config';
import type { EventStore } from '@mm/event-store';
import type { LiveGameApi, RatingProvider } from '@mm/integrations';
import type { QueueQueries, QueueViewReader } from '@mm/projections';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Authenticator } from './auth/authenticator.js';

/** Everything the HTTP API needs; apps/api builds it from the config, tests build it by hand. */
export interface ApiDependencies {
  config: Config;
  logger: Logger;
  store: EventStore;
  /** PostgreSQL: read models (`readModelSchema`) and idempotency keys (`apiSchema`). */
  db: pg.Pool;
  readModelSchema: string;
  apiSchema: string;
  redis: Redis;
  queueViews: QueueViewReader;
  queries: QueueQueries;
  ratings: RatingProvider;
  liveGame: LiveGameApi;
  authenticate: Authenticator;
  /** @defaultValue () => new Date() */
  clock?: () => Date;
}

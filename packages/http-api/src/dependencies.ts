import type { Config } from '@mm/config';
import type { EventStore } from '@mm/event-store';
import type { LiveGameApi, RatingProvider } from '@mm/integrations';
import type { ChallengeQueries, QueueQueries, QueueViewReader } from '@mm/projections';
import type { RedisClient } from '@mm/redis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticator } from './auth/authenticator.js';
import type { QueueUiQueue } from './routes/queue-ui.js';

/** Everything the HTTP API needs; apps/api builds it from the config, tests build it by hand. */
export interface ApiDependencies {
  config: Config;
  logger: Logger;
  store: EventStore;
  /** PostgreSQL: read models (`readModelSchema`) and idempotency keys (`apiSchema`). */
  db: pg.Pool;
  readModelSchema: string;
  apiSchema: string;
  redis: RedisClient;
  queueViews: QueueViewReader;
  queries: QueueQueries;
  ratings: RatingProvider;
  liveGame: LiveGameApi;
  authenticate: Authenticator;
  /** @defaultValue () => new Date() */
  clock?: () => Date;
  /** Reads of the `challenges` read model. @defaultValue built from `db` and `readModelSchema` */
  challengeQueries?: ChallengeQueries;
  /**
   * Schedules a challenge's expiry job (`ChallengeExpired` at `expiresAt`); unset = no job
   * (the deciders still refuse answers after `expiresAt`, but the log never records the expiry).
   */
  challengeExpiry?: { schedule(tenantId: string, challengeId: string, expiresAt: string): Promise<void> };
  /**
   * Asks the workers' game-creation path to create the game of a match once it exists
   * (called after a challenge is accepted); unset = the workers' scheduler tick finds the
   * match in CREATING_GAME and drives it.
   */
  gameCreation?: { request(tenantId: string, matchId: string): Promise<void> };
  /** Where the API's metrics go (served on the ops port by apps/api). @defaultValue a registry of its own */
  registry?: Registry;
  /** The BullMQ queues Bull Board shows at /internal/queues/ui (admin roles); unset = no queue UI. */
  queueUi?: { queues: readonly QueueUiQueue[] };
}

import { UnsupportedEventStoreUrlError } from './errors.js';
import type { EsdbEventStoreOptions } from './esdb/esdb-event-store.js';
import type { PostgresEventStoreOptions } from './postgres/postgres-event-store.js';
import type { EventStore } from './types.js';

/** Options for {@link createEventStore}; each adapter reads the part that concerns it. */
export interface CreateEventStoreOptions {
  /** Postgres adapter options (the connection comes from the URL). */
  postgres?: Omit<PostgresEventStoreOptions, 'connectionString' | 'pool'>;
  /** EventStoreDB adapter options (the connection comes from the URL). */
  esdb?: Omit<EsdbEventStoreOptions, 'connectionString'>;
}

export const SUPPORTED_EVENT_STORE_SCHEMES = [
  'postgres://',
  'postgresql://',
  'memory://',
  'esdb://',
  'esdb+discover://',
];

/**
 * Picks the adapter from the scheme of `EVENT_STORE_URL`:
 * `postgres://` / `postgresql://` → PostgreSQL (migrated on start), `memory://` → in-process
 * (tests only), `esdb://` / `esdb+discover://` → EventStoreDB (gRPC; the URL is EventStoreDB's
 * connection string, e.g. `esdb://eventstore:2113?tls=false`).
 */
export async function createEventStore(url: string, options: CreateEventStoreOptions = {}): Promise<EventStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      // Each adapter is loaded on demand, so the port (this package's main entry) loads no driver.
      return (await import('./postgres/postgres-event-store.js')).createPostgresEventStore({
        ...options.postgres,
        connectionString: url,
      });
    case 'memory':
      return (await import('./memory/memory-event-store.js')).createMemoryEventStore();
    case 'esdb':
    case 'esdb+discover':
      // Loaded on demand: the gRPC client is heavy and most processes use PostgreSQL.
      return (await import('./esdb/esdb-event-store.js')).createEsdbEventStore({
        ...options.esdb,
        connectionString: url,
      });
    default:
      throw new UnsupportedEventStoreUrlError(
        `EVENT_STORE_URL must start with one of ${SUPPORTED_EVENT_STORE_SCHEMES.join(', ')} (got ${
          scheme ? `"${scheme}://"` : 'no scheme'
        })`,
      );
  }
}

import type { EventType } from '@mm/contracts';
import type { AllFilter, EventStore, RecordedEvent, Subscription } from '@mm/event-store';
import { hasAnyRole, type Principal } from '../auth/authenticator.js';
import { problems } from '../errors/problem.js';

/** Stream categories a consumer may follow (the part of the stream name before the first `-`). */
export const FEED_CATEGORIES = ['player', 'match', 'challenge', 'pool'] as const;
export type FeedCategory = (typeof FEED_CATEGORIES)[number];

/** One event as the feed publishes it (the same JSON in a page and in an SSE `data:` line). */
export interface FeedEvent {
  /** Global position: unique, increasing in feed order, not dense. The cursor. */
  position: number;
  id: string;
  type: string;
  schema_version: number;
  stream: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: string;
}

export interface FeedPage {
  events: FeedEvent[];
  /** Pass as `after` for the next page: the last event's position; null when the page is empty (caught up). */
  next: number | null;
}

/** Which events a caller may read: one tenant, or every tenant (platform roles). */
export interface FeedScope {
  tenantId: string | null;
}

export interface FeedQuery {
  /** Exclusive cursor: events with a position above it. -1 = from the start. */
  after: number;
  types?: EventType[];
  categories?: FeedCategory[];
}

/** Where a followed stream writes; `write` returns a promise while the consumer is slow (backpressure). */
export interface FeedSink {
  write(event: FeedEvent): void | Promise<void>;
}

export interface EventFeed {
  /** The caller's scope, or 403 for a caller that is not a service (a player token). */
  scopeOf(principal: Principal): FeedScope;
  /** One page in global order (at least once, no gaps: the store's readAll guarantees it). */
  page(scope: FeedScope, query: FeedQuery, limit: number): Promise<FeedPage>;
  /**
   * History after `query.after`, then live events, into `sink`, one at a time: the next event
   * is read only after the sink accepted the previous one, and the store is read in pages of
   * `batchSize`, so a slow consumer holds the subscription back instead of filling memory.
   */
  follow(
    scope: FeedScope,
    query: FeedQuery,
    sink: FeedSink,
    onStopped: (error: unknown) => void,
  ): Pick<Subscription, 'close' | 'done'>;
}

export interface EventFeedDependencies {
  store: EventStore;
  /** Roles that may read their own tenant's events (the config's ADMIN_ROLES: admin, service). */
  serviceRoles: readonly string[];
  /** Roles that may read every tenant's events (EVENT_FEED_PLATFORM_ROLES). */
  platformRoles: readonly string[];
  /** Events read per store page while a stream catches up. @defaultValue 500 */
  batchSize?: number;
}

export const toFeedEvent = (event: RecordedEvent): FeedEvent => ({
  position: event.position,
  id: event.id,
  type: event.type,
  schema_version: event.schemaVersion,
  stream: event.streamName,
  data: event.data,
  metadata: event.metadata as Record<string, unknown>,
  recorded_at: event.recordedAt.toISOString(),
});

export function createEventFeed(deps: EventFeedDependencies): EventFeed {
  const filterOf = (scope: FeedScope, query: FeedQuery): AllFilter => ({
    ...(query.categories ? { categories: [...query.categories] } : {}),
    ...(query.types ? { eventTypes: [...query.types] } : {}),
    // Filtered in the store (an index on tenant + position in PostgreSQL), so a tenant's feed
    // never scans the other tenants' events.
    ...(scope.tenantId === null ? {} : { tenantId: scope.tenantId }),
  });

  return {
    scopeOf(principal) {
      if (hasAnyRole(principal, deps.platformRoles)) return { tenantId: null };
      if (hasAnyRole(principal, deps.serviceRoles)) return { tenantId: principal.tenantId };
      throw problems.forbidden(
        `The event feed is for services: it needs one of the roles ${[...deps.serviceRoles, ...deps.platformRoles].join(', ')}.`,
      );
    },

    async page(scope, query, limit) {
      const events = await deps.store.readAll({ after: query.after, maxCount: limit, filter: filterOf(scope, query) });
      return { events: events.map(toFeedEvent), next: events.length > 0 ? events[events.length - 1]!.position : null };
    },

    follow(scope, query, sink, onStopped) {
      let stopped = false;
      const stop = (error: unknown) => {
        if (stopped) return;
        stopped = true;
        onStopped(error);
      };
      const subscription = deps.store.subscribeToAll({
        after: query.after,
        filter: filterOf(scope, query),
        batchSize: deps.batchSize ?? 500,
        handler: (event) => sink.write(toFeedEvent(event)),
        onError: stop,
      });
      void subscription.done.then(() => stop(undefined));
      return subscription;
    },
  };
}

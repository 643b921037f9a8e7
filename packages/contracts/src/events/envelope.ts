import { z } from 'zod';
import { Instant } from './common.js';

/*
 * What travels around an event's data: the store's metadata and the envelope the HTTP event feed
 * (`GET /v1/events`, `GET /v1/events/stream`) publishes. Read an envelope's event with
 * `parseEvent(envelope.type, envelope.schema_version, envelope.data)`.
 */

/** Who caused an event: `user` = a player through the API; `service` = one of our workers; `system` = scheduled/automatic. */
export const EventActor = z.object({ type: z.enum(['user', 'service', 'system']), id: z.string() });
export type EventActor = z.infer<typeof EventActor>;

/** Metadata every event carries. Extra keys may appear and are kept. */
export const EventMetadata = z.looseObject({
  tenantId: z.string().min(1),
  /** Id of the request or flow this event belongs to (propagated end to end). */
  correlationId: z.string(),
  /** Id of the message (command id or event id) that directly caused this event; null for a root cause. */
  causationId: z.string().nullable(),
  actor: EventActor,
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/** One event as the HTTP feed publishes it: the same JSON in a page and in an SSE `data:` line. */
export const EventEnvelope = z.object({
  /** Global position: unique, increasing in feed order, not dense. The cursor (`after`, SSE `id:`). */
  position: z.number().int().nonnegative(),
  /** Event id (UUID); appends are idempotent by it. */
  id: z.string().min(1),
  /** Event type, e.g. `QueueJoined`; a consumer skips types it does not know. */
  type: z.string().min(1),
  /** Schema version of `data` (`schemas/<type>.v<schema_version>.json`). */
  schema_version: z.number().int().min(1),
  /** Stream name, `<category>-<id>` (`player-<tenant>:<user>`, `match-<id>`, `challenge-<id>`). */
  stream: z.string().min(1),
  /** The event data, as written (not upcast). */
  data: z.record(z.string(), z.unknown()),
  metadata: EventMetadata,
  /** When the store recorded the event. */
  recorded_at: Instant,
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** A page of `GET /v1/events`. */
export const EventFeedPage = z.object({
  events: z.array(EventEnvelope),
  /** Pass as `after` for the next page: the last event's position; null when the page is empty (caught up). */
  next: z.number().int().nonnegative().nullable(),
});
export type EventFeedPage = z.infer<typeof EventFeedPage>;

import type { Redis } from 'ioredis';

/**
 * Every Redis key of the service, from one builder (`redisKeys(REDIS_PREFIX)`). Nothing else
 * in the repository spells a key. The queue views are derived from the log (the projector
 * rebuilds them when Redis loses them); locks and wave anchors are short-lived coordination.
 *
 * | key | type | what | written by |
 * | --- | --- | --- | --- |
 * | `{p}:q:{tenant}:{pool}:t` | zset | searching entry ids by enqueue time (ms) | projector |
 * | `{p}:q:{tenant}:{pool}:r` | zset | searching entry ids by rating | projector |
 * | `{p}:q:{tenant}:{pool}:gen` | int | bumped on every change of the pool (a pass detects changes under it) | projector |
 * | `{p}:e:{tenant}:{entry}` | hash | `pos` (last applied position), `status`, `pool`, `user`, `enq`, `rating`, `range` | projector |
 * | `{p}:pools` | set | JSON `[tenant, pool]` of every pool with searching entries | projector |
 * | `{p}:u:{tenant}:{user}:recent` | list | `#<last position applied>`, then the user's last matches, newest first (`<w\|b><ms>\|<opponent>`) | projector |
 * | `{p}:u:{tenant}:{user}:pos` | string | legacy: the position of lists written before it moved into their head (deleted on the next push; expires) | — |
 * | `{p}:h:{tenant}:{match}:{user}` | string | entry held by a challenge match ('' = none) | projector |
 * | `{p}:projection:queue-views` | string | the views' checkpoint | projector |
 * | `{p}:projection:queue-views:epoch` | string | random id of this build of the views (a lost Redis has none) | projector |
 * | `{p}:lock:pairing:{tenant}:{pool}` | string | the pool's pass lock (token, short TTL, renewed) | pairing worker |
 * | `{p}:wave:{tenant}:{pool}` | string | when a wave pool last paired (ms) | pairing worker |
 * | `{p}:rl:user:{tenant}:{user}`, `{p}:rl:tenant:{tenant}` | int | commands in the current rate-limit window (expires with it) | API |
 * | `{p}:bull:…` | BullMQ | every queue (`bullPrefix`) — see `queues/` | BullMQ |
 *
 * Tenant, pool, entry, user and match ids are URI-encoded, so no id can reach into another key.
 */
const part = (s: string) => encodeURIComponent(s);

export const redisKeys = (prefix: string) => ({
  /** Queue views: a pool's searching entries by enqueue time. */
  byTime: (tenant: string, pool: string) => `${prefix}:q:${part(tenant)}:${part(pool)}:t`,
  /** Queue views: a pool's searching entries by rating. */
  byRating: (tenant: string, pool: string) => `${prefix}:q:${part(tenant)}:${part(pool)}:r`,
  /** Queue views: a pool's generation counter. */
  generation: (tenant: string, pool: string) => `${prefix}:q:${part(tenant)}:${part(pool)}:gen`,
  /** Queue views: one entry. */
  entry: (tenant: string, entryId: string) => `${prefix}:e:${part(tenant)}:${part(entryId)}`,
  /** What `entry` puts before the encoded entry id (for scripts that derive entry keys). */
  entryPrefix: (tenant: string) => `${prefix}:e:${part(tenant)}:`,
  /** What `recent` puts before the encoded user id (its key ends with `:recent`). */
  userPrefix: (tenant: string) => `${prefix}:u:${part(tenant)}:`,
  pools: () => `${prefix}:pools`,
  recent: (tenant: string, user: string) => `${prefix}:u:${part(tenant)}:${part(user)}:recent`,
  /** Legacy (see the table): read and deleted by pushRecent-2.lua. */
  recentPosition: (tenant: string, user: string) => `${prefix}:u:${part(tenant)}:${part(user)}:pos`,
  held: (tenant: string, matchId: string, user: string) => `${prefix}:h:${part(tenant)}:${part(matchId)}:${part(user)}`,
  checkpoint: () => `${prefix}:projection:queue-views`,
  epoch: () => `${prefix}:projection:queue-views:epoch`,
  /** The pool's pass lock (pairing workers). */
  poolLock: (tenant: string, pool: string) => `${prefix}:lock:pairing:${part(tenant)}:${part(pool)}`,
  /** When a wave pool last paired (pairing workers). */
  wave: (tenant: string, pool: string) => `${prefix}:wave:${part(tenant)}:${part(pool)}`,
  /** Rate limits (API): a user's command counter (given whole to the rate-limit store). */
  rateLimitUser: (tenant: string, user: string) => `${prefix}:rl:user:${part(tenant)}:${part(user)}`,
  /** Rate limits (API): a tenant's command counter. */
  rateLimitTenant: (tenant: string) => `${prefix}:rl:tenant:${part(tenant)}`,
  /** Patterns of every queue-view key (for a rebuild, a dump or a comparison). */
  queueViewPatterns: () => [
    `${prefix}:q:*`,
    `${prefix}:e:*`,
    `${prefix}:u:*`,
    `${prefix}:h:*`,
    `${prefix}:pools`,
    `${prefix}:projection:queue-views`,
    `${prefix}:projection:queue-views:epoch`,
  ],
});

export type RedisKeys = ReturnType<typeof redisKeys>;

/** BullMQ's own key prefix for this deployment (every queue lives under it). */
export const bullPrefix = (redisPrefix: string): string => `${redisPrefix}:bull`;

/**
 * Length (approximate) of each queue's BullMQ event stream (`…:events`). Nothing here reads it
 * (no QueueEvents); BullMQ's default of 10,000 kept ≈ 1.6 MB per busy queue for nobody.
 */
export const QUEUE_EVENTS_MAX_LEN = 500;

/** Options every BullMQ queue of the service is created with. */
export const queueOptions = (connection: Redis, redisPrefix: string) => ({
  connection,
  prefix: bullPrefix(redisPrefix),
  streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
});

/** Member of the `pools` set. */
export const poolMember = (tenant: string, pool: string): string => JSON.stringify([tenant, pool]);
export const parsePoolMember = (member: string): { tenantId: string; poolKey: string } => {
  const [tenantId, poolKey] = JSON.parse(member) as [string, string];
  return { tenantId, poolKey };
};

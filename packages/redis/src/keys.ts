import type { Cluster, Redis } from 'ioredis';

/**
 * Every Redis key of the service, from one builder (`redisKeys(REDIS_PREFIX)`). Nothing else
 * in the repository spells a key. The queue views are derived from the log (the projector
 * rebuilds them when Redis loses them, or when their layout changed); locks and wave anchors
 * are short-lived coordination.
 *
 * The layout is made for Redis Cluster: a key's `{…}` part (its hash tag) decides its slot, and
 * every script and every multi-key command touches keys of one tag only —
 * `{pool:<tenant>:<pool>}` for everything of one pool (its sets, generation, pass lock, wave
 * anchor and the hashes of its entries), `{user:<tenant>:<user>}` for one player's recent games
 * and held entries, `{views}` for the views' checkpoint, epoch, layout and set of pools. Keys
 * without a tag (rate-limit counters, the entry → pool index) are used one at a time.
 *
 * | key | type | what | written by |
 * | --- | --- | --- | --- |
 * | `{p}:{pool:<t>:<pool>}:t` | zset | searching entry ids by enqueue time (ms) | projector |
 * | `{p}:{pool:<t>:<pool>}:r` | zset | searching entry ids by rating | projector |
 * | `{p}:{pool:<t>:<pool>}:gen` | int | bumped on every change of the pool (a pass detects changes under it) | projector |
 * | `{p}:{pool:<t>:<pool>}:e:<entry>` | hash | `pos` (last applied position), `status`, `pool`, `user`, `enq`, `rating`, `range` | projector |
 * | `{p}:{pool:<t>:<pool>}:lock` | string | the pool's pass lock (token, short TTL, renewed) | pairing worker |
 * | `{p}:{pool:<t>:<pool>}:wave` | string | when a wave pool last paired (ms) | pairing worker |
 * | `{p}:ep:<t>:<entry>` | string | the entry's pool (events that name only the entry find its hash by it; expires with the hash) | projector |
 * | `{p}:{user:<t>:<user>}:recent` | list | `#<last position applied>`, then the user's last matches, newest first (`<w\|b><ms>\|<opponent>`) | projector |
 * | `{p}:{user:<t>:<user>}:h:<match>` | string | entry held by a challenge match ('' = none) | projector |
 * | `{p}:{views}:pools` | set | JSON `[tenant, pool]` of every pool with searching entries (written after the pools' scripts, not by them) | projector |
 * | `{p}:{views}:checkpoint` | string | the views' checkpoint | projector |
 * | `{p}:{views}:epoch` | string | random id of this build of the views (a lost Redis has none) | projector |
 * | `{p}:{views}:layout` | string | {@link QUEUE_VIEWS_LAYOUT} of the build (another one: the views are rebuilt) | projector |
 * | `{p}:rl:user:<t>:<user>`, `{p}:rl:tenant:<t>` | int | commands in the current rate-limit window (expires with it) | API |
 * | `{p}:bull:{<queue>}:…` | BullMQ | every queue, each under its own hash tag (`bullPrefix`) — see `queues/` | BullMQ |
 *
 * Tenant, pool, entry, user and match ids are URI-encoded (`{` and `}` included), so no id can
 * reach into another key or another key's hash tag.
 */
const part = (s: string) => encodeURIComponent(s);

/**
 * Version of the queue views' key layout. The projector rebuilds the views from the log when
 * the stored layout is another one (or missing), deleting the keys of every older layout first.
 * Layout 1 (until the Redis Cluster layout): `{p}:q:…`, `{p}:e:…`, `{p}:u:…`, `{p}:h:…`,
 * `{p}:pools`, `{p}:projection:queue-views[:epoch]`, `{p}:lock:pairing:…`, `{p}:wave:…`.
 */
export const QUEUE_VIEWS_LAYOUT = 2;

export const redisKeys = (prefix: string) => {
  const pool = (tenant: string, poolKey: string) => `${prefix}:{pool:${part(tenant)}:${part(poolKey)}}`;
  const user = (tenant: string, userId: string) => `${prefix}:{user:${part(tenant)}:${part(userId)}}`;
  const views = `${prefix}:{views}`;
  return {
    /** Queue views: a pool's searching entries by enqueue time. */
    byTime: (tenant: string, poolKey: string) => `${pool(tenant, poolKey)}:t`,
    /** Queue views: a pool's searching entries by rating. */
    byRating: (tenant: string, poolKey: string) => `${pool(tenant, poolKey)}:r`,
    /** Queue views: a pool's generation counter. */
    generation: (tenant: string, poolKey: string) => `${pool(tenant, poolKey)}:gen`,
    /** Queue views: one entry (under its pool's hash tag). */
    entry: (tenant: string, poolKey: string, entryId: string) => `${pool(tenant, poolKey)}:e:${part(entryId)}`,
    /** What `entry` puts before the encoded entry id (poolSnapshot derives entry keys of the same pool). */
    entryPrefix: (tenant: string, poolKey: string) => `${pool(tenant, poolKey)}:e:`,
    /** Queue views: the pool of an entry (for events that name only the entry). */
    entryPool: (tenant: string, entryId: string) => `${prefix}:ep:${part(tenant)}:${part(entryId)}`,
    /** Queue views: every pool with searching entries. */
    pools: () => `${views}:pools`,
    /** Queue views: a user's recent games. */
    recent: (tenant: string, userId: string) => `${user(tenant, userId)}:recent`,
    /** Queue views: the entry a challenge match holds for one of its users. */
    held: (tenant: string, matchId: string, userId: string) => `${user(tenant, userId)}:h:${part(matchId)}`,
    checkpoint: () => `${views}:checkpoint`,
    epoch: () => `${views}:epoch`,
    layout: () => `${views}:layout`,
    /** The pool's pass lock (pairing workers). */
    poolLock: (tenant: string, poolKey: string) => `${pool(tenant, poolKey)}:lock`,
    /** When a wave pool last paired (pairing workers). */
    wave: (tenant: string, poolKey: string) => `${pool(tenant, poolKey)}:wave`,
    /** Rate limits (API): a user's command counter (given whole to the rate-limit store). */
    rateLimitUser: (tenant: string, userId: string) => `${prefix}:rl:user:${part(tenant)}:${part(userId)}`,
    /** Rate limits (API): a tenant's command counter. */
    rateLimitTenant: (tenant: string) => `${prefix}:rl:tenant:${part(tenant)}`,
    /** Whether `key` (under this prefix) is a key of the queue views, of this layout or an older one. */
    isQueueViewKey: (key: string) => isQueueViewKey(prefix, key, true),
    /** Whether `key` is a key of the current layout's queue views (for a dump or a comparison). */
    isCurrentQueueViewKey: (key: string) => isQueueViewKey(prefix, key, false),
  };
};

/** Key names after the prefix: the current layout's views, and the keys of layout 1 (views, locks, wave anchors). */
const CURRENT_VIEW_KEY =
  /^:(\{pool:[^}]*\}:(t|r|gen|e:.*)|\{user:[^}]*\}:(recent|h:.*)|ep:.*|\{views\}:(pools|checkpoint|epoch|layout))$/;
const LAYOUT_1_KEY = /^:((q|e|u|h|wave):.*|lock:pairing:.*|pools|projection:queue-views(:epoch)?)$/;

function isQueueViewKey(prefix: string, key: string, legacy: boolean): boolean {
  if (!key.startsWith(prefix)) return false;
  const rest = key.slice(prefix.length);
  return CURRENT_VIEW_KEY.test(rest) || (legacy && LAYOUT_1_KEY.test(rest));
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * BullMQ's key prefix for one queue of this deployment: `<prefix>:bull:{<queue>}`. Every key
 * of a queue then shares the queue's hash tag (BullMQ's scripts touch many keys of one queue),
 * and the queues spread over a Redis Cluster's nodes. Queues and workers of one queue must be
 * created with the same prefix (`queueOptions` / `workerPrefix`).
 */
export const bullPrefix = (redisPrefix: string, queue: string): string => `${redisPrefix}:bull:{${queue}}`;

/**
 * Length (approximate) of each queue's BullMQ event stream (`…:events`). Nothing here reads it
 * (no QueueEvents); BullMQ's default of 10,000 kept ≈ 1.6 MB per busy queue for nobody.
 */
export const QUEUE_EVENTS_MAX_LEN = 500;

/** Options every BullMQ queue of the service is created with. */
export const queueOptions = (connection: Redis | Cluster, redisPrefix: string, queue: string) => ({
  connection,
  prefix: bullPrefix(redisPrefix, queue),
  streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
});

/** Member of the `pools` set. */
export const poolMember = (tenant: string, pool: string): string => JSON.stringify([tenant, pool]);
export const parsePoolMember = (member: string): { tenantId: string; poolKey: string } => {
  const [tenantId, poolKey] = JSON.parse(member) as [string, string];
  return { tenantId, poolKey };
};

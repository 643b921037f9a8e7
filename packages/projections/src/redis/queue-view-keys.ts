/**
 * Redis layout of the queue views (all under the deployment's prefix):
 *
 * | key | type | what |
 * | --- | --- | --- |
 * | `{p}:q:{tenant}:{pool}:t` | zset | searching entry ids by enqueue time (ms) |
 * | `{p}:q:{tenant}:{pool}:r` | zset | searching entry ids by rating |
 * | `{p}:q:{tenant}:{pool}:gen` | int | bumped on every change of the pool (workers detect changes during a pass) |
 * | `{p}:e:{tenant}:{entry}` | hash | `pos` (last applied position), `status`, `pool`, `user`, `enq`, `rating`, `range` |
 * | `{p}:pools` | set | JSON `[tenant, pool]` of every pool with searching entries |
 * | `{p}:u:{tenant}:{user}:recent` | list | the user's last matches, newest first (JSON) |
 * | `{p}:u:{tenant}:{user}:pos` | string | last position applied to that list |
 * | `{p}:h:{tenant}:{match}:{user}` | string | entry held by a challenge match ('' = none) |
 * | `{p}:projection:queue-views` | string | checkpoint |
 * | `{p}:projection:queue-views:epoch` | string | random id of this build of the views (a lost Redis has none) |
 */
const part = (s: string) => encodeURIComponent(s);

export const queueViewKeys = (prefix: string) => ({
  byTime: (tenant: string, pool: string) => `${prefix}:q:${part(tenant)}:${part(pool)}:t`,
  byRating: (tenant: string, pool: string) => `${prefix}:q:${part(tenant)}:${part(pool)}:r`,
  generation: (tenant: string, pool: string) => `${prefix}:q:${part(tenant)}:${part(pool)}:gen`,
  entry: (tenant: string, entryId: string) => `${prefix}:e:${part(tenant)}:${part(entryId)}`,
  /** What `entry` puts before the encoded entry id (for scripts that derive entry keys). */
  entryPrefix: (tenant: string) => `${prefix}:e:${part(tenant)}:`,
  /** What `recent` puts before the encoded user id (its key ends with `:recent`). */
  userPrefix: (tenant: string) => `${prefix}:u:${part(tenant)}:`,
  pools: () => `${prefix}:pools`,
  recent: (tenant: string, user: string) => `${prefix}:u:${part(tenant)}:${part(user)}:recent`,
  recentPosition: (tenant: string, user: string) => `${prefix}:u:${part(tenant)}:${part(user)}:pos`,
  held: (tenant: string, matchId: string, user: string) => `${prefix}:h:${part(tenant)}:${part(matchId)}:${part(user)}`,
  checkpoint: () => `${prefix}:projection:queue-views`,
  epoch: () => `${prefix}:projection:queue-views:epoch`,
  /** Every key of the views (for a rebuild). */
  all: () => [
    `${prefix}:q:*`,
    `${prefix}:e:*`,
    `${prefix}:u:*`,
    `${prefix}:h:*`,
    `${prefix}:pools`,
    `${prefix}:projection:queue-views`,
    `${prefix}:projection:queue-views:epoch`,
  ],
});

export type QueueViewKeys = ReturnType<typeof queueViewKeys>;

/** Member of the `pools` set. */
export const poolMember = (tenant: string, pool: string): string => JSON.stringify([tenant, pool]);
export const parsePoolMember = (member: string): { tenantId: string; poolKey: string } => {
  const [tenantId, poolKey] = JSON.parse(member) as [string, string];
  return { tenantId, poolKey };
};

/**
 * Stream names follow `category-id`, so category reads (EventStoreDB `$ce-player`,
 * Postgres category filters) see every stream of a kind. Ids are URI-encoded where they
 * come from outside (tenant and user ids may contain `-` or `:`), so a name always
 * splits back unambiguously.
 */
export const PLAYER_CATEGORY = 'player';
export const MATCH_CATEGORY = 'match';
export const CHALLENGE_CATEGORY = 'challenge';
export const POOL_CATEGORY = 'pool';

/** The per-tenant, per-user stream: the consistency boundary for queue entries and claims. */
export const playerStream = (tenantId: string, userId: string): string =>
  `${PLAYER_CATEGORY}-${encodeURIComponent(tenantId)}:${encodeURIComponent(userId)}`;

/** Inverse of {@link playerStream}; `null` if the name is not a player stream. */
export const parsePlayerStream = (streamName: string): { tenantId: string; userId: string } | null => {
  const prefix = `${PLAYER_CATEGORY}-`;
  if (!streamName.startsWith(prefix)) return null;
  const parts = streamName.slice(prefix.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { tenantId: decodeURIComponent(parts[0]), userId: decodeURIComponent(parts[1]) };
};

/** Match ids and challenge ids are UUIDs we generate, so they need no encoding. */
export const matchStream = (matchId: string): string => `${MATCH_CATEGORY}-${matchId}`;

export const challengeStream = (challengeId: string): string => `${CHALLENGE_CATEGORY}-${challengeId}`;

/** One tenant's pool: the record of its pairing passes (`PairingPassCompleted`). Tenant and pool key are URI-encoded. */
export const poolStream = (tenantId: string, poolKey: string): string =>
  `${POOL_CATEGORY}-${encodeURIComponent(tenantId)}:${encodeURIComponent(poolKey)}`;

/** Inverse of {@link poolStream}; `null` if the name is not a pool stream. */
export const parsePoolStream = (streamName: string): { tenantId: string; poolKey: string } | null => {
  const prefix = `${POOL_CATEGORY}-`;
  if (!streamName.startsWith(prefix)) return null;
  const parts = streamName.slice(prefix.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { tenantId: decodeURIComponent(parts[0]), poolKey: decodeURIComponent(parts[1]) };
};

/** Category of a stream name (the part before the first `-`). */
export const streamCategory = (streamName: string): string => {
  const dash = streamName.indexOf('-');
  return dash < 0 ? streamName : streamName.slice(0, dash);
};

import type { Redis } from 'ioredis';
import type pg from 'pg';

/** Which part of the service a table belongs to (how the bench groups its figures). */
export type StorageGroup = 'event_store' | 'read_models' | 'other';

export interface RelationSize {
  /** The table (a partition is reported under its partitioned parent). */
  table: string;
  /** `table` itself (heap + TOAST), or the name of one of its indexes. */
  relation: string;
  kind: 'table' | 'index';
  group: StorageGroup;
  bytes: number;
  /** Live rows of the table (for a table row; 0 for an index). */
  rows: number;
}

const EVENT_STORE_TABLES = new Set([
  'events',
  'event_store_migrations',
  'event_types',
  'event_categories',
  'event_partitions',
  'archived_streams',
  'event_data_dictionaries',
  'event_actors',
]);
const READ_MODEL_TABLES = new Set([
  'queue_entries',
  'matches',
  'match_explanations',
  'challenges',
  'projection_checkpoints',
  'read_model_migrations',
  'read_model_retention',
]);

const groupOf = (table: string): StorageGroup =>
  EVENT_STORE_TABLES.has(table) ? 'event_store' : READ_MODEL_TABLES.has(table) ? 'read_models' : 'other';

/**
 * Size of every table (heap + TOAST) and every index of a schema, partitions folded into
 * their partitioned parent. Sizes are on-disk pages (`pg_relation_size`), so run VACUUM first
 * to measure what a steady state keeps rather than the dead rows of the last minutes.
 */
export async function relationSizes(db: pg.Pool | pg.PoolClient, schema: string): Promise<RelationSize[]> {
  const { rows } = await db.query<{
    parent: string;
    relation: string;
    kind: string;
    bytes: string;
    rows: string;
  }>(
    `WITH rels AS (
       SELECT c.oid, c.relname, c.relkind,
              coalesce((SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                         WHERE i.inhrelid = c.oid), c.relname) AS parent
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p'))
     SELECT r.parent, r.parent AS relation, 'table' AS kind,
            sum(pg_relation_size(r.oid) + coalesce(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0))::bigint AS bytes,
            sum(greatest(c.reltuples, 0))::bigint AS rows
       FROM rels r JOIN pg_class c ON c.oid = r.oid
      GROUP BY r.parent
     UNION ALL
     SELECT r.parent,
            coalesce((SELECT pi.relname FROM pg_inherits ii JOIN pg_class pi ON pi.oid = ii.inhparent
                       WHERE ii.inhrelid = x.indexrelid),
                     -- an index of each partition on its own (events_<n>_id_key): one line for all
                     CASE WHEN r.parent <> r.relname THEN replace(ic.relname, r.relname, r.parent || '_*') ELSE ic.relname END)
              AS relation,
            'index', sum(pg_relation_size(x.indexrelid))::bigint, 0
       FROM rels r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class ic ON ic.oid = x.indexrelid
      GROUP BY 1, 2
      ORDER BY 1, 3 DESC, 2`,
    [schema],
  );
  return rows.map((row) => ({
    table: row.parent,
    relation: row.relation,
    kind: row.kind as 'table' | 'index',
    group: groupOf(row.parent),
    bytes: Number(row.bytes),
    rows: Number(row.rows),
  }));
}

export interface RedisFamily {
  /** The key's first segment after the prefix (`e` entries, `u` users, `q` pools, `bull`, …). */
  family: string;
  keys: number;
  bytes: number;
  /** Keys of the family without a TTL (they stay until something deletes them). */
  persistent: number;
  /** Bytes of the keys that would still exist `horizonSeconds` after the measurement. */
  bytesAfterHorizon: number;
  /** Σ bytes × remaining TTL (s), for a steady-state estimate; persistent keys excluded. */
  byteSeconds: number;
  /** The family's largest key (after the prefix) and its bytes. */
  largest: { key: string; bytes: number };
}

/**
 * Every key under `prefix`: `MEMORY USAGE` (exact, `SAMPLES 0`) and the remaining TTL, grouped
 * by family. `bytesAfterHorizon` counts a key when it has no TTL or its TTL outlives the horizon,
 * i.e. what is left of this run once everything that expires within the horizon has expired.
 */
export async function redisFamilies(redis: Redis, prefix: string, horizonSeconds: number): Promise<RedisFamily[]> {
  const families = new Map<string, RedisFamily>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) {
      pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      pipeline.pttl(key);
    }
    const results = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const bytes = Number(results[2 * i]?.[1] ?? 0);
      const pttl = Number(results[2 * i + 1]?.[1] ?? -2);
      if (pttl === -2) return; // gone meanwhile
      // A hash-tagged key's family is its tag's kind and its suffix (`pool:t`, `user:recent`, `views:pools`).
      const rest = key.slice(prefix.length + 1);
      const tagged = /^\{(pool|user|views)[^}]*\}:([^:]+)/.exec(rest);
      const family = tagged ? `${tagged[1]}:${tagged[2]}` : (rest.split(':')[0] ?? '');
      let entry = families.get(family);
      if (!entry) {
        entry = {
          family,
          keys: 0,
          bytes: 0,
          persistent: 0,
          bytesAfterHorizon: 0,
          byteSeconds: 0,
          largest: { key: '', bytes: 0 },
        };
        families.set(family, entry);
      }
      entry.keys++;
      entry.bytes += bytes;
      if (bytes > entry.largest.bytes) entry.largest = { key: key.slice(prefix.length + 1), bytes };
      if (pttl === -1) {
        entry.persistent++;
        entry.bytesAfterHorizon += bytes;
      } else {
        if (pttl > horizonSeconds * 1000) entry.bytesAfterHorizon += bytes;
        entry.byteSeconds += (bytes * pttl) / 1000;
      }
    });
  } while (cursor !== '0');
  return [...families.values()].sort((a, b) => b.bytes - a.bytes);
}

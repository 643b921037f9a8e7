import type { RecordedEvent } from '@mm/event-store';
import { createQueueViewProjection, createReadModelProjection, migrateReadModels } from '@mm/projections';
import { redisKeys } from '@mm/redis';
import { deleteRedisPrefix } from '@mm/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sleep } from '../driver/pacing.js';

/*
 * The checks of the fault runs, shared by infra-faults.e2e.spec.ts and `pnpm bench:faults`:
 * answers against the log, entries left searching, pairing resuming after a fault, and the
 * Redis views / Postgres read models against a replay of the whole log.
 */

/** What the players were told: every join by user id, every cancel by entry id. */
export interface Outcomes {
  joins: Map<string, { status: number; entryId: string | null; pool: string }>;
  cancels: Map<string, number>;
}

export interface Truthfulness {
  /** Every lie, readable. */
  lies: string[];
  /** Answered 5xx, yet in the log. */
  refusedButApplied: number;
  /** Answered 201/200, yet not in the log (or another entry is). */
  acknowledgedButNotApplied: number;
  count: { joined201: number; join5xx: number; cancelled200: number; cancel5xx: number; other: number };
}

/** Every answer checked against the log: a success is in it, a 5xx is not. */
export function truthfulness(events: RecordedEvent[], outcomes: Outcomes): Truthfulness {
  const joinedBy = new Map<string, string>();
  const cancelledByUser = new Set<string>();
  for (const e of events) {
    // biome-ignore lint/suspicious/noExplicitAny: raw event data
    const d: any = e.data;
    if (e.type === 'QueueJoined') joinedBy.set(d.userId, d.queueEntryId);
    if (e.type === 'QueueCancelled' && d.reason === 'user') cancelledByUser.add(d.queueEntryId);
  }
  const lies: string[] = [];
  let refusedButApplied = 0;
  let acknowledgedButNotApplied = 0;
  const count = { joined201: 0, join5xx: 0, cancelled200: 0, cancel5xx: 0, other: 0 };
  for (const [user, join] of outcomes.joins) {
    const inLog = joinedBy.get(user);
    if (join.status === 201) {
      count.joined201++;
      if (inLog !== join.entryId) {
        acknowledgedButNotApplied++;
        lies.push(`join of ${user} answered 201 (${join.entryId}) but the log has ${inLog}`);
      }
    } else if (join.status >= 500) {
      count.join5xx++;
      if (inLog) {
        refusedButApplied++;
        lies.push(`join of ${user} answered ${join.status} but ${inLog} is in the log`);
      }
    } else count.other++;
  }
  for (const [entryId, status] of outcomes.cancels) {
    if (status === 200) {
      count.cancelled200++;
      if (!cancelledByUser.has(entryId)) {
        acknowledgedButNotApplied++;
        lies.push(`cancel of ${entryId} answered 200 but is not in the log`);
      }
    } else if (status >= 500) {
      count.cancel5xx++;
      if (cancelledByUser.has(entryId)) {
        refusedButApplied++;
        lies.push(`cancel of ${entryId} answered ${status} but is in the log`);
      }
    }
  }
  return { lies, refusedButApplied, acknowledgedButNotApplied, count };
}

/** Entries still searching according to the log. */
export const searchingEntries = (events: RecordedEvent[]): string[] => {
  const searching = new Set<string>();
  for (const e of events) {
    // biome-ignore lint/suspicious/noExplicitAny: raw event data
    const d: any = e.data;
    if (e.type === 'QueueJoined' || e.type === 'QueueEntryReleased') searching.add(d.queueEntryId);
    else if (['QueueCancelled', 'QueueTimedOut', 'QueueEntryMatched'].includes(e.type))
      searching.delete(d.queueEntryId);
  }
  return [...searching];
};

/**
 * Re-reads the log until no entry is searching any more (each ends by its queue timeout at
 * the latest) or `deadline` (epoch ms) passes; returns the last log read.
 */
export async function waitUntilNoneSearching(
  readAll: () => Promise<RecordedEvent[]>,
  events: RecordedEvent[],
  deadline: number,
): Promise<RecordedEvent[]> {
  let current = events;
  while (searchingEntries(current).length > 0 && Date.now() < deadline) {
    await sleep(500);
    current = await readAll();
  }
  return current;
}

/** Time from `since` (epoch ms) to the first MatchCreated decided after it, in ms (null if none); only in `pool` when given. */
export const firstMatchAfter = (events: RecordedEvent[], since: number, pool?: string): number | null => {
  let first: number | null = null;
  for (const e of events) {
    if (e.type !== 'MatchCreated') continue;
    const d = e.data as { decidedAt: string; pool?: { key?: string } };
    if (pool !== undefined && d.pool?.key !== pool) continue;
    const at = Date.parse(d.decidedAt);
    if (at >= since && (first === null || at < first)) first = at;
  }
  return first === null ? null : first - since;
};

export interface ViewsVsReplay {
  liveKeys: number;
  replayedKeys: number;
  /** `<type> <key>: live … / replay …` for every key whose value differs (or exists on one side only). */
  differing: string[];
}

/**
 * Replays the whole log into a fresh prefix of the same Redis and compares the queue views
 * under `prefix` with it, key for key and value for value.
 */
export async function viewsVsReplay(
  redisUrl: string,
  prefix: string,
  readAll: () => Promise<RecordedEvent[]>,
): Promise<ViewsVsReplay> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const replayPrefix = `${prefix}:replay`;
  try {
    const events = await readAll();
    const projection = createQueueViewProjection({ redis, prefix: replayPrefix });
    await projection.loadCheckpoint();
    for (let i = 0; i < events.length; i += 500) await projection.applyBatch(events.slice(i, i + 500));
    const [live, replay] = await Promise.all([dumpViews(redis, prefix), dumpViews(redis, replayPrefix)]);
    const differing = [...new Set([...live.keys(), ...replay.keys()])]
      .filter((k) => live.get(k) !== replay.get(k))
      .map((k) => `${k}: live ${live.get(k)} / replay ${replay.get(k)}`);
    return { liveKeys: live.size, replayedKeys: replay.size, differing };
  } finally {
    await deleteRedisPrefix(redis, replayPrefix);
    redis.disconnect();
  }
}

/** The views' content under `prefix`, by key relative to it (generation counters, checkpoints and locks left out). */
export async function dumpViews(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const views = redisKeys(prefix);
  const bookkeeping = new Set([views.checkpoint(), views.epoch(), views.layout()]);
  for (const pattern of [`${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if (!views.isCurrentQueueViewKey(key) || bookkeeping.has(key) || key.endsWith(':gen')) continue;
        const type = await redis.type(key);
        const value =
          type === 'zset'
            ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
            : type === 'hash'
              ? Object.entries(await redis.hgetall(key)).sort()
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? (await redis.smembers(key)).sort()
                  : type === 'string'
                    ? await redis.get(key)
                    : type;
        out.set(`${type} ${key.slice(prefix.length)}`, JSON.stringify(value));
      }
    } while (cursor !== '0');
  }
  return out;
}

export interface ReadModelsVsReplay {
  /** Rows of the live read models. */
  liveRows: number;
  /** Rows that differ from a replay of the log, or exist on one side only, by table. */
  differingRows: Record<string, number>;
  /** Sum of {@link differingRows}. */
  differing: number;
  /** The live read models had not applied the whole log when compared. */
  lagging: boolean;
}

const READ_MODEL_TABLES = [
  ['queue_entries', 'tenant_id, queue_entry_id'],
  ['matches', 'tenant_id, match_id'],
  ['challenges', 'tenant_id, challenge_id'],
] as const;

/**
 * Replays the whole log into the read models of a fresh schema next to `schema` and compares
 * them, row for row, with the live ones (which are first given up to `catchUpMs` to apply the
 * last event of the log). The replay schema is dropped afterwards.
 */
export async function readModelsVsReplay(
  databaseUrl: string,
  schema: string,
  readAll: () => Promise<RecordedEvent[]>,
  catchUpMs = 30_000,
): Promise<ReadModelsVsReplay> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  const replaySchema = `${schema}_rm_replay`;
  const q = (s: string, table: string) => `"${s}".${table}`;
  try {
    let events = await readAll();
    const deadline = Date.now() + catchUpMs;
    let lagging = true;
    for (;;) {
      const last = events.length ? events[events.length - 1]!.position : -1;
      const { rows } = await pool.query<{ position: string }>(
        `SELECT position FROM ${q(schema, 'projection_checkpoints')} WHERE name = 'read-models'`,
      );
      if (rows[0] && Number(rows[0].position) >= last) {
        lagging = false;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(250);
      events = await readAll();
    }
    await pool.query(`DROP SCHEMA IF EXISTS "${replaySchema}" CASCADE`);
    await pool.query(`CREATE SCHEMA "${replaySchema}"`);
    await migrateReadModels(pool, replaySchema);
    const projection = createReadModelProjection(pool, replaySchema);
    for (let i = 0; i < events.length; i += 500) await projection.applyBatch(events.slice(i, i + 500));
    const differingRows: Record<string, number> = {};
    let liveRows = 0;
    for (const [table, key] of READ_MODEL_TABLES) {
      const live = q(schema, table);
      const replay = q(replaySchema, table);
      const { rows } = await pool.query<{ differing: string; live: string }>(
        `SELECT (SELECT count(DISTINCT (${key})) FROM ((SELECT * FROM ${live} EXCEPT SELECT * FROM ${replay})
                 UNION ALL (SELECT * FROM ${replay} EXCEPT SELECT * FROM ${live})) d) AS differing,
                (SELECT count(*) FROM ${live}) AS live`,
      );
      differingRows[table] = Number(rows[0]!.differing);
      liveRows += Number(rows[0]!.live);
    }
    return {
      liveRows,
      differingRows,
      differing: Object.values(differingRows).reduce((a, b) => a + b, 0),
      lagging,
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${replaySchema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

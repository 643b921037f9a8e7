import { inflateRawSync } from 'node:zlib';
import { createPostgresEventStore, inflateText, type PostgresEventStore } from '@mm/event-store/postgres';
import { createTestSchema, type TestSchema } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanLog } from './log-scan.js';
import { writeSyntheticLog } from './synthetic/synthetic-log.js';

/**
 * The readers inflate event data with fflate (`inflateText`), the writers deflate it with zlib:
 * on a log written by the domain's deciders, every compressed row of every event type inflates
 * to zlib's bytes, and a scan through the store gives the data zlib gives.
 */

let db: TestSchema;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestSchema('replay_codec');
  store = await createPostgresEventStore({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  // small appends, so that the dictionaries (registered after 16 samples of a type) are used soon
  await writeSyntheticLog(store, { events: 6000, tenants: 2, playersPerTenant: 60, eventsPerAppend: 200 });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await db?.drop();
});

describe('compressed event data: fflate reads what zlib reads', () => {
  it('every compressed row of every event type inflates to the same bytes as zlib', async () => {
    const { rows: dictionaries } = await db.pool.query<{ id: number; dictionary: Buffer }>(
      `SELECT id, dictionary FROM "${db.schema}".event_data_dictionaries`,
    );
    const byId = new Map(dictionaries.map((row) => [row.id, row.dictionary]));
    const { rows } = await db.pool.query<{ type: string; data_dictionary_id: number; data_deflated: Buffer }>(
      `SELECT t.name AS type, e.data_dictionary_id, e.data_deflated
         FROM "${db.schema}".events e JOIN "${db.schema}".event_types t ON t.id = e.type_id
        WHERE e.data_deflated IS NOT NULL ORDER BY e.position`,
    );
    const types = new Set<string>();
    let differing = 0;
    for (const row of rows) {
      const dictionary = byId.get(row.data_dictionary_id)!;
      const zlib = inflateRawSync(row.data_deflated, { dictionary });
      if (!Buffer.from(inflateText(row.data_deflated, dictionary)).equals(zlib)) differing++;
      types.add(row.type);
    }
    expect(differing).toBe(0);
    expect(rows.length).toBeGreaterThan(4000);
    // the types of the synthetic log (match, claim, game, abort, release, cancel, time-out, challenges)
    expect([...types].sort()).toEqual(
      expect.arrayContaining([
        'ChallengeIssued',
        'GameCreated',
        'MatchAborted',
        'MatchCreated',
        'QueueCancelled',
        'QueueEntryGameStarted',
        'QueueEntryMatched',
        'QueueEntryReleased',
        'QueueJoined',
        'QueueTimedOut',
      ]),
    );
  });

  it('a scan through the store gives the data zlib gives, row for row', async () => {
    const { rows } = await db.pool.query<{
      position: string;
      data: unknown;
      data_deflated: Buffer | null;
      dictionary: Buffer | null;
    }>(
      `SELECT e.position, e.data, e.data_deflated, d.dictionary
         FROM "${db.schema}".events e LEFT JOIN "${db.schema}".event_data_dictionaries d ON d.id = e.data_dictionary_id
        ORDER BY e.position`,
    );
    const expected = new Map(
      rows.map((row) => [
        Number(row.position),
        row.data_deflated
          ? JSON.parse(inflateRawSync(row.data_deflated, { dictionary: row.dictionary! }).toString('utf8'))
          : row.data,
      ]),
    );
    let compared = 0;
    await scanLog(
      store,
      (events) => {
        for (const event of events) {
          expect(event.data).toEqual(expected.get(event.position));
          compared++;
        }
      },
      { filter: {} },
    );
    expect(compared).toBe(rows.length);
  });
});

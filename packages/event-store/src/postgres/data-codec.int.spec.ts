import { randomBytes, randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, readAllPages } from '../testing/index.js';
import type { EventData, Json } from '../types.js';
import { inflateText } from './data-codec.js';
import { migrateEventStore } from './migrate.js';
import { createPostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store.js';
import { quoteIdentifier } from './sql.js';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/matchmaking_test';
const schema = `es_codec_${randomBytes(6).toString('hex')}`;
const s = quoteIdentifier(schema);
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await migrateEventStore({ connection: url, schema });
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

const open = (options: Partial<PostgresEventStoreOptions> = {}) =>
  createPostgresEventStore({ connectionString: url, schema, poolSize: 4, ...options });

const joined = (type: string, n: number): EventData => ({
  id: randomUUID(),
  type,
  data: {
    userId: `user-${n}`,
    queueEntryId: randomUUID(),
    pool: { timeControl: '3+0', mode: n % 2 ? 'rated' : 'casual' },
    rating: 1400 + n,
    ratingSource: 'rating-api',
    ratingRange: null,
    enqueuedAt: new Date(Date.UTC(2026, 11, 1, 12, 0, n)).toISOString(),
  },
  metadata: {
    tenantId: 'codec',
    correlationId: randomUUID(),
    causationId: null,
    actor: { type: 'system', id: 'codec-test' },
  },
});

interface StoredRow {
  id: string;
  data: Json | null;
  data_dictionary_id: number | null;
  data_deflated: Buffer | null;
}
const storedRows = async (streamName: string) =>
  (
    await admin.query<StoredRow>(
      `SELECT id, data, data_dictionary_id, data_deflated FROM ${s}.event_log
        WHERE stream_name = $1 ORDER BY revision`,
      [streamName],
    )
  ).rows;

/** Waits until a dictionary of `type` is registered (off the append path). */
const dictionaryRegistered = (type: string) =>
  eventually(async () => {
    const { rows } = await admin.query(
      `SELECT 1 FROM ${s}.event_data_dictionaries d JOIN ${s}.event_types t ON t.id = d.type_id WHERE t.name = $1`,
      [type],
    );
    expect(rows).toHaveLength(1);
  });

describe('event data compressed with a dictionary per type (postgres)', () => {
  it('stores the first events of a type plain, then compressed with the dictionary trained from them; every reader gets the data back', async () => {
    const type = `Joined${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const writer = await open({ dataCompression: { samples: 4 } });
    const written: EventData[] = [];
    try {
      for (let n = 0; n < 4; n++) {
        const event = joined(type, n);
        written.push(event);
        await writer.appendToStream(streamName, [event]);
      }
      await dictionaryRegistered(type); // after the 4th sample
      for (let n = 4; n < 20; n++) {
        const event = joined(type, n);
        written.push(event);
        await writer.appendToStream(streamName, [event]);
      }
      const rows = await storedRows(streamName);
      expect(rows.slice(0, 4).every((row) => row.data !== null && row.data_deflated === null)).toBe(true);
      const compressed = rows.slice(4);
      expect(compressed.every((row) => row.data === null && row.data_deflated !== null)).toBe(true);
      // compressed to well under half of the JSON text
      for (const [index, row] of compressed.entries()) {
        const text = JSON.stringify(written[index + 4]!.data);
        expect(row.data_deflated!.length).toBeLessThan(text.length / 2);
      }
      // the writer reads its own rows back
      expect((await writer.readStream(streamName)).map((event) => event.data)).toEqual(written.map((e) => e.data));
    } finally {
      await writer.close();
    }

    // another store (another process: it has not seen the dictionary) reads the stream and the log
    const reader = await open({ dataCompression: false });
    try {
      expect((await reader.readStream(streamName)).map((event) => event.data)).toEqual(written.map((e) => e.data));
      const all = await readAllPages(reader, { filter: { eventTypes: [type] } });
      expect(all.map((event) => event.data)).toEqual(written.map((e) => e.data));
    } finally {
      await reader.close();
    }

    // outside the adapter: raw DEFLATE with the registered dictionary as preset dictionary
    const row = (await storedRows(streamName))[10]!;
    const { rows: dictionaries } = await admin.query<{ dictionary: Buffer }>(
      `SELECT dictionary FROM ${s}.event_data_dictionaries WHERE id = $1`,
      [row.data_dictionary_id],
    );
    const text = inflateRawSync(row.data_deflated!, { dictionary: dictionaries[0]!.dictionary }).toString('utf8');
    expect(JSON.parse(text)).toEqual(written[10]!.data);
  });

  it("readLog gives readAll's pages cut down to what a projection applies, compressed and plain rows alike", async () => {
    const type = `Logged${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const writer = await open({ dataCompression: { samples: 3 } });
    try {
      await writer.appendToStream(
        streamName,
        [0, 1, 2].map((n) => joined(type, n)),
      );
      await dictionaryRegistered(type);
      for (let n = 3; n < 23; n++) await writer.appendToStream(streamName, [joined(type, n)]);
      const wide = joined(type, 23); // non-ASCII and past the inflater's 64 KiB buffer
      wide.data = { ...(wide.data as object), note: `é€😀${'x'.repeat(70_000)}` };
      await writer.appendToStream(streamName, [wide]);
    } finally {
      await writer.close();
    }
    const rows = await storedRows(streamName);
    expect(rows.filter((row) => row.data_deflated !== null).length).toBeGreaterThan(15);
    expect(rows.filter((row) => row.data !== null).length).toBeGreaterThan(0);

    const reader = await open({ dataCompression: false }); // has seen no dictionary
    try {
      const filter = { eventTypes: [type] };
      const all = await readAllPages(reader, { filter });
      expect(all).toHaveLength(24);
      const cut = all.map((e) => ({
        position: e.position,
        type: e.type,
        schemaVersion: e.schemaVersion,
        tenantId: e.metadata.tenantId,
        data: e.data,
      }));
      const logged = [];
      for (let after = -1; ; ) {
        const page = await reader.readLog!({ after, maxCount: 7, filter });
        if (page.length === 0) break;
        logged.push(...page);
        after = page[page.length - 1]!.position;
      }
      expect(logged).toEqual(cut);
      // streamLog: the same pages, read and decoded ahead in a thread
      const streamed = [];
      for await (const page of reader.streamLog({ maxCount: 7, filter, ahead: 2 })) {
        expect(page.length).toBeLessThanOrEqual(7);
        streamed.push(...page);
      }
      expect(streamed).toEqual(cut);
      // the thread's COPY statements of 5 events (pages of 3 cut across them), then pages; and pages only
      for (const logReaderCopyRows of [5, 0]) {
        const chunked = await open({ dataCompression: false, logReaderCopyRows });
        try {
          const pages = [];
          for await (const page of chunked.streamLog({ maxCount: 3, filter })) pages.push(page);
          expect(pages.flat()).toEqual(cut);
          expect(pages.every((page) => page.length <= 3)).toBe(true);
          const timedPages = [];
          for await (const page of chunked.streamLog({
            after: all[3]!.position,
            maxCount: 4,
            filter,
            recordedAt: true,
          }))
            timedPages.push(...page);
          expect(timedPages).toEqual(all.slice(4).map((e, i) => ({ ...cut[i + 4], recordedAt: e.recordedAt })));
          // one COPY statement: at most `limit` events, from `after`, the time as recorded
          const copied = [];
          for await (const page of chunked.copyLogText({
            after: all[1]!.position,
            maxCount: 4,
            limit: 9,
            filter,
            recordedAt: true,
          }))
            copied.push(...page.map((e) => ({ ...e, data: JSON.parse(e.data) })));
          expect(copied).toEqual(all.slice(2, 11).map((e, i) => ({ ...cut[i + 2], recordedAt: e.recordedAt })));
        } finally {
          await chunked.close();
        }
      }
      // one page whose data crosses the thread as several texts (the wide event's alone: past DATA_CHUNK)
      const onePage = [];
      for await (const page of reader.streamLog({ maxCount: 30, filter })) onePage.push(page);
      expect(onePage).toEqual([cut]);
      const first = [];
      for await (const page of reader.streamLog({ after: all[1]!.position, maxCount: 3, filter, recordedAt: true })) {
        first.push(...page);
        break; // stops the thread
      }
      expect(first).toEqual(all.slice(2, 5).map((e, i) => ({ ...cut[i + 2], recordedAt: e.recordedAt })));
      const timed = await reader.readLog!({ after: all[4]!.position, maxCount: 5, filter, recordedAt: true });
      expect(timed).toEqual(all.slice(5, 10).map((e, i) => ({ ...cut[i + 5], recordedAt: e.recordedAt })));
      expect(await reader.readLog!({ after: all[23]!.position, filter })).toEqual([]);
      // a damaged row fails the read, in the thread as in the caller
      const damaged = rows.findIndex((row) => row.data_deflated !== null);
      await admin.query(`UPDATE ${s}.events SET data_deflated = '\\xffffffff'::bytea WHERE id = $1`, [
        rows[damaged]!.id,
      ]);
      await expect(reader.readLog!({ filter, maxCount: 100 })).rejects.toThrow();
      const drain = async () => {
        for await (const _page of reader.streamLog({ filter, maxCount: 5 }));
      };
      await expect(drain()).rejects.toThrow();
    } finally {
      await reader.close();
    }
  });

  it('a second writer uses the dictionary the first one registered; with compression off the data stays plain', async () => {
    const type = `Shared${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const first = await open({ dataCompression: { samples: 2 } });
    try {
      await first.appendToStream(streamName, [joined(type, 0), joined(type, 1)]);
      await dictionaryRegistered(type);
    } finally {
      await first.close();
    }
    const second = await open({ dataCompression: { samples: 2 } });
    const plain = await open({ dataCompression: false });
    try {
      await second.appendToStream(streamName, [joined(type, 2)]);
      await plain.appendToStream(streamName, [joined(type, 3)]);
      const rows = await storedRows(streamName);
      expect(rows.map((row) => row.data_deflated !== null)).toEqual([false, false, true, false]);
      const { rows: dictionaries } = await admin.query(
        `SELECT count(*)::int AS n FROM ${s}.event_data_dictionaries d JOIN ${s}.event_types t ON t.id = d.type_id WHERE t.name = $1`,
        [type],
      );
      expect(dictionaries[0].n).toBe(1);
      expect((await plain.readStream(streamName)).map((event) => (event.data as { userId: string }).userId)).toEqual([
        'user-0',
        'user-1',
        'user-2',
        'user-3',
      ]);
    } finally {
      await second.close();
      await plain.close();
    }
  });

  it('a writer still sampling picks up the dictionary another process registered meanwhile', async () => {
    const type = `Late${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const quick = await open({ dataCompression: { samples: 2 } });
    const slow = await open({ dataCompression: { samples: 1000 } }); // would sample for long
    try {
      await quick.appendToStream(streamName, [joined(type, 0), joined(type, 1)]);
      await dictionaryRegistered(type);
      // slow opened before the registration: it looks again every 4 samples
      let n = 2;
      await eventually(async () => {
        await slow.appendToStream(streamName, [joined(type, n++)]);
        const rows = await storedRows(streamName);
        expect(rows.at(-1)!.data_deflated).not.toBeNull();
      });
      expect(n - 2).toBeLessThanOrEqual(12);
      expect((await slow.readStream(streamName)).map((e) => (e.data as { userId: string }).userId)).toEqual(
        Array.from({ length: n }, (_, i) => `user-${i}`),
      );
    } finally {
      await quick.close();
      await slow.close();
    }
  });

  it('data that a dictionary does not make smaller is stored plain', async () => {
    const type = `Tiny${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const store = await open({ dataCompression: { samples: 1 } });
    try {
      const tiny = (): EventData => ({
        id: randomUUID(),
        type,
        data: {},
        metadata: {
          tenantId: 'codec',
          correlationId: randomUUID(),
          causationId: null,
          actor: { type: 'system', id: 'codec-test' },
        },
      });
      await store.appendToStream(streamName, [tiny()]);
      await dictionaryRegistered(type);
      await store.appendToStream(streamName, [tiny()]);
      const rows = await storedRows(streamName);
      expect(rows.map((row) => row.data)).toEqual([{}, {}]);
      expect((await store.readStream(streamName)).map((event) => event.data)).toEqual([{}, {}]);
    } finally {
      await store.close();
    }
  });

  it("streamLog's COPY statements take the filter's names as written: quotes, backslashes, non-ASCII", async () => {
    const type = `Quoted'${randomBytes(3).toString('hex')}\\n`;
    const other = `Other${randomBytes(3).toString('hex')}`;
    const tenants = ["o'brien\\'; SELECT 1; --", 'zoë', 'plain'];
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const writer = await open({ dataCompression: { samples: 2 } });
    try {
      for (let n = 0; n < 9; n++) {
        const event = joined(n % 4 === 3 ? other : type, n);
        event.metadata.tenantId = tenants[n % 3]!;
        await writer.appendToStream(streamName, [event]);
      }
    } finally {
      await writer.close();
    }
    const reader = await open({ dataCompression: false, logReaderCopyRows: 2 });
    try {
      for (const filter of [
        { eventTypes: [type, "a'b"] },
        { eventTypes: [type, other], tenantId: tenants[0]! },
        { eventTypes: [other], tenantId: 'zoë' },
        { eventTypes: [type], tenantId: 'nobody' },
      ]) {
        const expected = await reader.readLog!({ filter, maxCount: 100 });
        const streamed = [];
        for await (const page of reader.streamLog({ filter, maxCount: 2 })) streamed.push(...page);
        expect(streamed).toEqual(expected);
        // the COPY statement itself (streamLog would read on in pages after a COPY that found nothing)
        const copied = [];
        for await (const page of reader.copyLogText({ filter, maxCount: 2, limit: 100 }))
          copied.push(...page.map((e) => ({ ...e, data: JSON.parse(e.data) })));
        expect(copied).toEqual(expected);
      }
      expect((await reader.readLog!({ filter: { eventTypes: [type] }, maxCount: 100 })).length).toBe(7);
      expect((await reader.readLog!({ filter: { tenantId: tenants[0]! }, maxCount: 100 })).length).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });
});

describe("copyLogText (streamLog's bulk read)", () => {
  it("a slow reader keeps its COPY statement open past the role's statement timeout", async () => {
    const type = `Bulky${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const writer = await open({ dataCompression: false });
    try {
      for (let n = 0; n < 40; n++) {
        const event = joined(type, n);
        event.data = { ...(event.data as object), blob: randomBytes(150_000).toString('base64') };
        await writer.appendToStream(streamName, [event]);
      }
    } finally {
      await writer.close();
    }
    // 6 MB of rows: more than the sockets hold, so PostgreSQL waits on the reader while it sleeps
    const reader = await open({
      connectionString: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c statement_timeout=300')}`,
      dataCompression: false,
    });
    try {
      const positions: number[] = [];
      for await (const page of reader.copyLogText({ filter: { eventTypes: [type] }, maxCount: 1, limit: 100 })) {
        positions.push(page[0]!.position);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      expect(positions).toHaveLength(40);
    } finally {
      await reader.close();
    }
  });
});

describe("inflateText (the readers' inflater: fflate into a reused buffer) against zlib", () => {
  // the writer's format: raw DEFLATE, level 4, memLevel 3, a 16 KiB window, the dictionary preset
  const deflate = (text: Buffer, dictionary: Buffer) =>
    deflateRawSync(text, { dictionary, level: 4, memLevel: 3, windowBits: 14 });
  const dictionary = Buffer.from(
    Array.from({ length: 16 }, (_, n) => JSON.stringify(joined('QueueJoined', n).data)).join('\n'),
  );
  const same = (text: Buffer, dict = dictionary) => {
    const deflated = deflate(text, dict);
    const zlibText = inflateRawSync(deflated, { dictionary: dict });
    expect(zlibText.equals(text)).toBe(true);
    const ours = inflateText(deflated, dict);
    expect(Buffer.from(ours).equals(zlibText)).toBe(true);
  };

  it("gives zlib's bytes: events like the dictionary, other text, non-ASCII text, empty data", () => {
    for (let n = 0; n < 200; n++) same(Buffer.from(JSON.stringify(joined('QueueJoined', n * 7).data)));
    same(Buffer.from(JSON.stringify({ name: 'Zoë Łukasiewicz 😀 王', note: 'ünïcödé '.repeat(40) })));
    same(Buffer.from('{}'));
    same(Buffer.from(''));
    same(Buffer.from('x'), Buffer.from('')); // no dictionary bytes at all
  });

  it('data larger than its output buffer (64 KiB), compressible or not (stored blocks), and the calls after it', () => {
    const big = Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, n) => joined('QueueJoined', n).data))); // ≈ 700 KB
    same(big);
    same(Buffer.from(randomBytes(200_000).toString('base64')));
    const random = randomBytes(150_000); // incompressible: stored blocks
    const deflated = deflate(random, dictionary);
    expect(() => inflateText(deflated, dictionary)).not.toThrow(); // bytes, not text: no comparison of the text
    expect(inflateRawSync(deflated, { dictionary }).equals(random)).toBe(true);
    for (let n = 0; n < 20; n++) same(Buffer.from(JSON.stringify(joined('QueueJoined', n).data)));
    same(big);
  });

  it("damaged data fails (with zlib's error) instead of giving other text", () => {
    const deflated = deflate(Buffer.from(JSON.stringify(joined('QueueJoined', 3).data)), dictionary);
    expect(() => inflateText(deflated.subarray(0, deflated.length - 4), dictionary)).toThrow();
    expect(() => inflateText(Buffer.from([0xff, 0xff, 0xff, 0xff]), dictionary)).toThrow();
  });

  it('an event whose data is larger than the output buffer is stored compressed and read back', async () => {
    const type = `Big${randomBytes(3).toString('hex')}`;
    const streamName = `codec-${randomBytes(4).toString('hex')}`;
    const store = await open({ dataCompression: { samples: 1 } });
    try {
      const first = joined(type, 0);
      await store.appendToStream(streamName, [first]);
      await dictionaryRegistered(type);
      const event = joined(type, 1);
      event.data = {
        ...(event.data as Record<string, Json>),
        list: Array.from({ length: 8000 }, (_, n) => `item-${n}`),
      };
      expect(JSON.stringify(event.data).length).toBeGreaterThan(64 * 1024);
      await store.appendToStream(streamName, [event]);
      const rows = await storedRows(streamName);
      expect(rows[1]!.data_deflated).not.toBeNull();
      const reader = await open({ dataCompression: false });
      try {
        expect((await reader.readStream(streamName)).map((e) => e.data)).toEqual([first.data, event.data]);
      } finally {
        await reader.close();
      }
    } finally {
      await store.close();
    }
  });
});

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { inflateSync } from 'fflate';
import type pg from 'pg';
import type { Json } from '../types.js';
import { quoteIdentifier } from './sql.js';

/*
 * Event data, compressed with a preset dictionary per event type (migration 1700000000006).
 *
 * One event's JSON is short (60–700 bytes) and shares almost nothing with itself, so generic
 * compression gains little on it; what it shares is with the other events of its type: the keys,
 * the enum values, the id and time formats. Raw DEFLATE (RFC 1951) with a preset dictionary made
 * of earlier events of the same type and schema version finds those: QueueJoined 222 → ≈ 85 bytes.
 *
 * A dictionary is trained once per (type, schema version) from the first `samples` events this
 * store appends of it (they are stored as plain `json`; every few samples it looks whether another
 * process registered one meanwhile, and uses that one), then registered in
 * `event_data_dictionaries` (the first writer to register wins; everyone uses the winner's) and
 * never changed: rows name it by id, so any reader decodes any row. Data that does not get
 * smaller is stored plain. Readers load dictionaries by id on first sight.
 *
 * Outside this adapter a compressed row is raw DEFLATE with the dictionary as the preset
 * dictionary: zlib `inflateRaw` with `dictionary` (Node, Python `zlib.decompressobj(-15, zdict=…)`,
 * Go `flate.NewReaderDict`, Java `Inflater(true)` + `setDictionary`).
 *
 * Reading inflates with fflate (pure JS) into one reused output buffer: Node's zlib sets up a
 * native stream and loads the dictionary on every call (≈ 8–16 µs an event), fflate reads the
 * dictionary where it lies (≈ 2 µs). Writing still deflates with zlib, so the stored format is
 * unchanged; data-codec.int.spec.ts checks that both inflaters give the same bytes for every event type.
 */

export interface DataCompressionOptions {
  /** Events of a type (and schema version) whose data make its dictionary. @defaultValue 16 */
  samples?: number;
  /** Cap on a dictionary's size in bytes (at most the 16 KiB window the store compresses with). @defaultValue 16384 */
  maxDictionaryBytes?: number;
}

/** What goes into the append functions' payload for one event's data. */
export type EncodedData = { data: Json } | { z: string; d: number };

interface Dictionary {
  id: number;
  bytes: Buffer;
}

interface Training {
  samples: string[];
  registering?: Promise<void>;
  /** A look for a dictionary registered by another process is in flight. */
  looking?: boolean;
}

/** While sampling, look for a dictionary registered by another process every this many samples. */
const LOOKUP_EVERY = 4;

const key = (type: string, schemaVersion: number) => `${schemaVersion}:${type}`;

/**
 * Small and fast: zlib allocates its state on every call, and at level 9 / memLevel 9 that
 * alone cost ≈ 0.8 ms per event; level 4, memLevel 3 and a 16 KiB window (the dictionary's
 * largest size) compress our events as small (within 1 %) in ≈ 30–70 µs.
 */
const WINDOW_BITS = 14;
const DEFLATE_OPTIONS = (dictionary: Buffer) => ({ dictionary, level: 4, memLevel: 3, windowBits: WINDOW_BITS });

export class DataCodec {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #samples: number;
  readonly #maxBytes: number;
  readonly #enabled: boolean;
  /** Encoding: the dictionary of a (type, version), once there is one. */
  readonly #byType = new Map<string, Dictionary>();
  /** Decoding: every dictionary seen, by id. */
  readonly #byId = new Map<number, Buffer>();
  readonly #training = new Map<string, Training>();
  #closed = false;

  constructor(pool: pg.Pool, schema: string, options: DataCompressionOptions | false | undefined) {
    this.#pool = pool;
    this.#schema = quoteIdentifier(schema);
    this.#enabled = options !== false;
    this.#samples = Math.max(1, (options ? options.samples : undefined) ?? 16);
    this.#maxBytes = Math.min(
      2 ** WINDOW_BITS,
      Math.max(256, (options ? options.maxDictionaryBytes : undefined) ?? 16_384),
    );
  }

  /** Loads the registered dictionaries (at start; later ones are loaded when first needed). */
  async load(): Promise<void> {
    const { rows } = await this.#pool.query<{ id: number; type: string; schema_version: number; dictionary: Buffer }>(
      `SELECT d.id, t.name AS type, d.schema_version, d.dictionary
         FROM ${this.#schema}.event_data_dictionaries d JOIN ${this.#schema}.event_types t ON t.id = d.type_id`,
    );
    for (const row of rows) this.#remember(row.id, row.type, row.schema_version, row.dictionary);
  }

  #remember(id: number, type: string, schemaVersion: number, bytes: Buffer) {
    this.#byId.set(id, bytes);
    this.#byType.set(key(type, schemaVersion), { id, bytes });
    this.#training.delete(key(type, schemaVersion));
  }

  /** The payload form of one event's data: compressed when its type has a dictionary and it gets smaller. */
  encode(type: string, schemaVersion: number, data: Json): EncodedData {
    if (!this.#enabled) return { data };
    const k = key(type, schemaVersion);
    const dictionary = this.#byType.get(k);
    if (!dictionary) {
      this.#sample(k, type, schemaVersion, data);
      return { data };
    }
    const text = Buffer.from(JSON.stringify(data));
    const deflated = deflateRawSync(text, DEFLATE_OPTIONS(dictionary.bytes));
    // base64 only in transit (the append functions decode it to bytea)
    if (deflated.length >= text.length) return { data };
    return { z: deflated.toString('base64'), d: dictionary.id };
  }

  #sample(k: string, type: string, schemaVersion: number, data: Json) {
    let training = this.#training.get(k);
    if (!training) {
      training = { samples: [] };
      this.#training.set(k, training);
    }
    if (training.registering || this.#closed) return;
    training.samples.push(JSON.stringify(data));
    if (training.samples.length < this.#samples) {
      // Another process may have registered one meanwhile: look now and then, so that every
      // process does not store its own first samples plain.
      if (training.samples.length % LOOKUP_EVERY === 0 && !training.looking) {
        training.looking = true;
        this.#lookup(type, schemaVersion)
          .catch(() => undefined) // looked again after the next few samples
          .finally(() => {
            training.looking = false;
          });
      }
      return;
    }
    const bytes = this.#dictionaryOf(training.samples);
    const registering = this.#register(type, schemaVersion, bytes)
      .catch(() => {
        // Not registered (a connection blip, the store closing): train again from new samples.
        if (this.#training.get(k) === training) this.#training.set(k, { samples: [] });
      })
      .finally(() => {
        if (this.#training.get(k) === training) training.registering = undefined;
      });
    training.registering = registering;
  }

  /**
   * The samples, newest last (DEFLATE codes nearer matches in fewer bits), cut from the front to
   * the size cap. Distinct samples only: a repeated one adds bytes and no new strings.
   */
  #dictionaryOf(samples: string[]): Buffer {
    const distinct = [...new Set(samples)];
    let bytes = Buffer.from(distinct.join('\n'));
    if (bytes.length > this.#maxBytes) bytes = bytes.subarray(bytes.length - this.#maxBytes);
    return Buffer.from(bytes);
  }

  async #lookup(type: string, schemaVersion: number): Promise<void> {
    const s = this.#schema;
    const { rows } = await this.#pool.query<{ id: number; dictionary: Buffer }>(
      `SELECT d.id, d.dictionary FROM ${s}.event_data_dictionaries d JOIN ${s}.event_types t ON t.id = d.type_id
        WHERE t.name = $1 AND d.schema_version = $2`,
      [type, schemaVersion],
    );
    const row = rows[0];
    if (row && !this.#closed) this.#remember(row.id, type, schemaVersion, row.dictionary);
  }

  async #register(type: string, schemaVersion: number, bytes: Buffer): Promise<void> {
    const s = this.#schema;
    await this.#pool.query(
      `INSERT INTO ${s}.event_data_dictionaries (type_id, schema_version, dictionary)
       VALUES (${s}.event_type_id($1), $2, $3) ON CONFLICT (type_id, schema_version) DO NOTHING`,
      [type, schemaVersion, bytes],
    );
    const { rows } = await this.#pool.query<{ id: number; dictionary: Buffer }>(
      `SELECT d.id, d.dictionary FROM ${s}.event_data_dictionaries d
        WHERE d.type_id = ${s}.event_type_id($1) AND d.schema_version = $2`,
      [type, schemaVersion],
    );
    const row = rows[0];
    if (row) this.#remember(row.id, type, schemaVersion, row.dictionary);
  }

  /** Loads the dictionaries of these ids that this codec has not seen (rows written by others). */
  async prepare(ids: Iterable<number>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#byId.has(id));
    if (missing.length === 0) return;
    const { rows } = await this.#pool.query<{ id: number; dictionary: Buffer }>(
      `SELECT id, dictionary FROM ${this.#schema}.event_data_dictionaries WHERE id = ANY($1::smallint[])`,
      [missing],
    );
    for (const row of rows) this.#byId.set(row.id, row.dictionary);
  }

  /** The data of a stored row (after `prepare` for its dictionary). */
  decode(data: Json | null, deflated: Buffer | null, dictionaryId: number | null): Json {
    if (deflated === null || dictionaryId === null) return data as Json;
    const dictionary = this.#byId.get(dictionaryId);
    if (!dictionary) throw new Error(`event data dictionary ${dictionaryId} is missing from event_data_dictionaries`);
    return JSON.parse(inflateText(deflated, dictionary)) as Json;
  }

  /**
   * The data of a stored row as PostgreSQL's text (`readLog` reads it unparsed): `json` text, or
   * `bytea` in hex (`\x…`) inflated with its dictionary (after `prepare` for it).
   */
  decodeText(data: string | null, deflatedHex: string | null, dictionaryId: number | null): Json {
    return JSON.parse(this.decodeToText(data, deflatedHex, dictionaryId)) as Json;
  }

  /** The dictionary of this id, when this codec has it (see {@link prepare}). */
  dictionary(id: number): Buffer | undefined {
    return this.#byId.get(id);
  }

  /** {@link decodeText} without the parse: the data's JSON text. */
  decodeToText(data: string | null, deflatedHex: string | null, dictionaryId: number | null): string {
    if (deflatedHex === null || dictionaryId === null) return data ?? 'null';
    const dictionary = this.#byId.get(dictionaryId);
    if (!dictionary) throw new Error(`event data dictionary ${dictionaryId} is missing from event_data_dictionaries`);
    return inflateText(hexBytes(deflatedHex), dictionary);
  }

  close() {
    this.#closed = true;
  }
}

/** Where {@link hexBytes} writes to; grown when a row's bytes do not fit. */
let hexScratch = Buffer.allocUnsafe(16 * 1024);

/**
 * The bytes of a `bytea` in PostgreSQL's hex output (`\x` then two digits a byte), written into
 * {@link hexScratch} — valid until the next call (the caller inflates them at once).
 */
function hexBytes(text: string): Uint8Array {
  if (text.charCodeAt(0) !== 0x5c || text.charCodeAt(1) !== 0x78) throw new Error('bytea not in hex output format');
  const length = (text.length - 2) >>> 1;
  if (length > hexScratch.length) hexScratch = Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(length)));
  const written = hexScratch.write(text.substring(2), 0, length, 'hex');
  if (written !== length) throw new Error('bytea hex output damaged');
  return hexScratch.subarray(0, length);
}

/** Where {@link inflateText} inflates to; grown when an event's data does not fit. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The text of one compressed row's data: raw DEFLATE with `dictionary` preset. fflate writes into
 * {@link scratch} (JS is single-threaded and the text is copied out before the next call); without
 * an output buffer it allocates 128 KiB for every event. An output that fills the buffer may have
 * been cut (fflate stops at its end) and one that fails may be damaged: both are inflated again
 * by zlib, which sizes its own output and names what is wrong, and the buffer grows for the next ones.
 */
export function inflateText(deflated: Uint8Array, dictionary: Uint8Array): string {
  let length = scratch.length;
  try {
    length = inflateSync(deflated, { dictionary, out: scratch }).length;
  } catch {
    // a stored block past the buffer's end throws; so does damaged data (zlib then says what is wrong)
  }
  if (length < scratch.length) return scratch.toString('utf8', 0, length);
  const whole = inflateRawSync(deflated, { dictionary });
  if (whole.length >= scratch.length && whole.length < 16 * 1024 * 1024)
    scratch = Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(whole.length + 1)));
  return whole.toString('utf8');
}

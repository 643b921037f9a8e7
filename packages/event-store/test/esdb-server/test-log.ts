/**
 * The in-memory transaction log behind the EventStoreDB protocol test server. It models the
 * parts of EventStoreDB the adapter relies on: one global log ordered by a byte-like position,
 * per-stream revisions, EventStoreDB's optimistic-concurrency and idempotency rules, and the
 * system events a real node writes (so the adapter's exclusion of them is exercised).
 */

/** Expected revision as EventStoreDB's Append call receives it. */
export type EsdbExpected =
  | { kind: 'any' }
  | { kind: 'no_stream' }
  | { kind: 'stream_exists' }
  | { kind: 'revision'; revision: number };

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export interface StoredEvent extends ProposedEvent {
  streamName: string;
  revision: number;
  /** Commit position = prepare position (as for EventStoreDB's implicit transactions). */
  position: number;
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends `created`. */
  created: bigint;
}

export type AppendOutcome =
  | { kind: 'written'; lastRevision: number; position: number }
  /** Every id was already written at the place this append targets: nothing written, no position (as EventStoreDB). */
  | { kind: 'idempotent'; lastRevision: number }
  | { kind: 'wrong_expected_version'; current: number | 'no_stream' };

export interface TestLogOptions {
  /**
   * Position of the first record. Real logs start after a few system records; a value above
   * 2^32 makes every position exercise 64-bit handling. @defaultValue 5_000_000_000
   */
  firstPosition?: number;
  /** Emulate the `$by_category` system projection: link events (`$>`) in `$ce-<category>`. @defaultValue true */
  categoryProjection?: boolean;
}

const TICKS_PER_MS = 10_000n;
const RECORD_OVERHEAD = 120;

export class TestLog {
  readonly events: StoredEvent[] = [];
  readonly streams = new Map<string, StoredEvent[]>();
  /** EventStoreDB keeps recently committed event ids in a cache; this one never evicts. */
  readonly #byId = new Map<string, StoredEvent>();
  readonly #listeners = new Set<() => void>();
  readonly #categoryProjection: boolean;
  #nextPosition: number;

  constructor(options: TestLogOptions = {}) {
    this.#nextPosition = options.firstPosition ?? 5_000_000_000;
    this.#categoryProjection = options.categoryProjection ?? true;
    // What a fresh node writes before any client does.
    this.#write('$settings', [systemEvent('$settings', { $userStreamAcl: { $r: '$all' } })]);
    this.#write('$users', [systemEvent('$User', { loginName: 'admin' })]);
  }

  /** Called after every write (the subscriptions' wake-up). */
  onWrite(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  currentRevision(streamName: string): number | 'no_stream' {
    const stream = this.streams.get(streamName);
    return stream && stream.length > 0 ? stream.length - 1 : 'no_stream';
  }

  /** Index of the first event with `position >= from`. */
  indexAtOrAfter(from: number): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.events[mid]!.position < from) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /**
   * EventStoreDB's commit check (IndexWriter.CheckCommit), simplified to what a single node
   * does: an exact expectation that matches writes; one that is behind compares the proposed
   * ids with the events after it (all equal: idempotent; the first differs: wrong expected
   * version; a later one differs: "corrupted idempotency", also reported as wrong expected
   * version). `any` and `stream_exists` look the ids up in the committed-id cache: the first id
   * unknown (or known in another stream) writes, all known consecutively in this stream is
   * idempotent, anything in between is corrupted idempotency.
   */
  append(streamName: string, expected: EsdbExpected, proposed: ProposedEvent[]): AppendOutcome {
    const current = this.currentRevision(streamName);
    const currentNumber = current === 'no_stream' ? -1 : current;
    const wrong: AppendOutcome = { kind: 'wrong_expected_version', current };
    if (proposed.length === 0) {
      // An empty append only checks the expectation.
      return { kind: 'idempotent', lastRevision: currentNumber };
    }
    if (expected.kind === 'any' || expected.kind === 'stream_exists') {
      if (expected.kind === 'stream_exists' && current === 'no_stream') return wrong;
      const first = this.#byId.get(proposed[0]!.id);
      if (!first || first.streamName !== streamName) {
        return this.#written(streamName, proposed);
      }
      for (let index = 1; index < proposed.length; index++) {
        const stored = this.#byId.get(proposed[index]!.id);
        if (!stored || stored.streamName !== streamName || stored.revision !== first.revision + index) return wrong;
      }
      return { kind: 'idempotent', lastRevision: first.revision + proposed.length - 1 };
    }
    const expectedNumber = expected.kind === 'no_stream' ? -1 : expected.revision;
    if (currentNumber === expectedNumber) return this.#written(streamName, proposed);
    if (currentNumber < expectedNumber) return wrong;
    const stream = this.streams.get(streamName) ?? [];
    for (let index = 0; index < proposed.length; index++) {
      const stored = stream[expectedNumber + 1 + index];
      if (!stored || stored.id !== proposed[index]!.id) return wrong;
    }
    return { kind: 'idempotent', lastRevision: expectedNumber + proposed.length };
  }

  #written(streamName: string, proposed: ProposedEvent[]): AppendOutcome {
    const stored = this.#write(streamName, proposed);
    const last = stored[stored.length - 1]!;
    if (this.#categoryProjection && !streamName.startsWith('$')) {
      const dash = streamName.indexOf('-');
      if (dash > 0) {
        const links = stored.map((event) =>
          systemEvent('$>', `${event.revision}@${event.streamName}`, 'application/octet-stream'),
        );
        this.#write(`$ce-${streamName.slice(0, dash)}`, links);
      }
    }
    for (const listener of [...this.#listeners]) listener();
    return { kind: 'written', lastRevision: last.revision, position: last.position };
  }

  #write(streamName: string, proposed: ProposedEvent[]): StoredEvent[] {
    const stream = this.streams.get(streamName) ?? [];
    this.streams.set(streamName, stream);
    const created = BigInt(Date.now()) * TICKS_PER_MS;
    return proposed.map((event) => {
      const stored: StoredEvent = {
        ...event,
        streamName,
        revision: stream.length,
        position: this.#nextPosition,
        created,
      };
      this.#nextPosition +=
        RECORD_OVERHEAD + streamName.length + event.type.length + event.data.length + event.customMetadata.length;
      stream.push(stored);
      this.events.push(stored);
      this.#byId.set(event.id, stored);
      return stored;
    });
  }
}

const systemEvent = (type: string, data: unknown, contentType = 'application/json'): ProposedEvent => ({
  id: crypto.randomUUID(),
  type,
  contentType,
  data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8'),
  customMetadata: new Uint8Array(),
});

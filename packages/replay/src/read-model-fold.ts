import type { ProjectedEvent } from '@mm/projections';

/**
 * The read-model handlers of packages/projections (`applyToReadModels`) as an in-memory fold:
 * the same rows, the same columns, the same guards (`last_position < position` where a
 * statement has it, none where it has none), event by event in log order. The bulk rebuild
 * (read-model-bulk.ts) folds a chunk of the log into rows here and writes them with COPY;
 * `read-model-fold.int.spec.ts` rebuilds the same logs both ways and diffs the schemas, so a
 * change to a handler that is not made here too fails there.
 *
 * A fold starts from the rows its chunk touches that are already stored (`load`, see
 * {@link foldLookups}): every row an event can reach is in memory when the event is applied.
 */

/** Columns of `queue_entries`, in COPY order. */
export const QUEUE_ENTRY_COLUMNS = [
  'tenant_id',
  'queue_entry_id',
  'user_id',
  'pool_key',
  'time_control',
  'mode',
  'rating',
  'rating_source',
  'rating_range',
  'status',
  'enqueued_at',
  'ended_at',
  'match_id',
  'opponent_id',
  'colour',
  'game_id',
  'held_by_match_id',
  'last_position',
] as const;

export const MATCH_COLUMNS = [
  'tenant_id',
  'match_id',
  'source',
  'challenge_id',
  'pool_key',
  'time_control',
  'mode',
  'white_user_id',
  'black_user_id',
  'white_entry_id',
  'black_entry_id',
  'white_rating',
  'black_rating',
  'rating_gap',
  'status',
  'game_id',
  'abort_reason',
  'decided_at',
  'finished_at',
  'last_position',
] as const;

export const CHALLENGE_COLUMNS = [
  'tenant_id',
  'challenge_id',
  'challenger_id',
  'opponent_id',
  'time_control',
  'mode',
  'color',
  'message',
  'status',
  'decline_reason',
  'match_id',
  'game_id',
  'created_at',
  'expires_at',
  'ended_at',
  'last_position',
] as const;

/** A value as the handlers bind it (strings, numbers, null; times as the event's ISO text). */
export type Cell = string | number | null;
export type Row<C extends readonly string[]> = { [K in C[number]]: Cell } & { last_position: number };
export type QueueEntryRow = Row<typeof QUEUE_ENTRY_COLUMNS>;
export type MatchRow = Row<typeof MATCH_COLUMNS>;
export type ChallengeRow = Row<typeof CHALLENGE_COLUMNS>;

/** A row in the fold: whether the target table has it already (UPDATE) or not (INSERT), and the batch that last touched it. */
interface Held<R> {
  row: R;
  stored: boolean;
  touched: number;
}

export interface FoldTable<R> {
  /** Rows the chunk inserted. */
  inserted: R;
  /** Stored rows the chunk changed. */
  updated: R;
}

/** Lines of COPY's text format joined into pieces of about this many characters. */
const PIECE = 1 << 18;

/**
 * COPY text made a piece at a time: lines joined into flat strings of ≈ 256 K characters, so
 * that a batch's changes, held while its write runs, are a few large strings (never copied by
 * the young-generation GC) instead of a string per row.
 */
function* copyPieces(rows: readonly Record<string, Cell>[], columns: readonly string[]): Generator<string> {
  let lines: string[] = [];
  let length = 0;
  for (const row of rows) {
    const line = copyLine(row, columns);
    lines.push(line);
    length += line.length;
    if (length >= PIECE) {
      yield lines.join('');
      lines = [];
      length = 0;
    }
  }
  if (lines.length > 0) yield lines.join('');
}

const key = (tenantId: string, id: string): string => `${tenantId}\u0000${id}`;

/** Keys of stored rows a chunk of events can reach: by primary key, and by the columns some handlers select on. */
export interface FoldLookups {
  /** (tenant, queue_entry_id) */
  entries: Map<string, [string, string]>;
  /** (tenant, match_id) of queue entries (GameCreated) */
  entriesByMatch: Map<string, [string, string]>;
  /** (tenant, held_by_match_id) of queue entries (ChallengeMatchReleased) */
  entriesByHolder: Map<string, [string, string]>;
  /** (tenant, match_id) */
  matches: Map<string, [string, string]>;
  /** (tenant, challenge_id) */
  challenges: Map<string, [string, string]>;
  /** (tenant, match_id) of challenges (GameCreated) */
  challengesByMatch: Map<string, [string, string]>;
}

/** What {@link ReadModelFold} must have loaded before it applies `events`. */
export function foldLookups(events: readonly ProjectedEvent[]): FoldLookups {
  const lookups: FoldLookups = {
    entries: new Map(),
    entriesByMatch: new Map(),
    entriesByHolder: new Map(),
    matches: new Map(),
    challenges: new Map(),
    challengesByMatch: new Map(),
  };
  const add = (map: Map<string, [string, string]>, tenantId: string, id: string | null | undefined) => {
    if (id === null || id === undefined) return;
    const k = key(tenantId, id);
    if (!map.has(k)) map.set(k, [tenantId, id]);
  };
  for (const event of events) {
    const t = event.tenantId;
    switch (event.type) {
      case 'QueueJoined':
      case 'QueueCancelled':
      case 'QueueTimedOut':
      case 'QueueEntryMatched':
      case 'QueueEntryReleased':
      case 'QueueEntryGameStarted':
        add(lookups.entries, t, event.data.queueEntryId);
        break;
      case 'ChallengeMatchClaimed':
        add(lookups.entries, t, event.data.heldQueueEntryId);
        break;
      case 'ChallengeMatchReleased':
        add(lookups.entriesByHolder, t, event.data.matchId);
        break;
      case 'MatchCreated':
        add(lookups.matches, t, event.data.matchId);
        add(lookups.entries, t, event.data.white.queueEntryId);
        add(lookups.entries, t, event.data.black.queueEntryId);
        break;
      case 'GameCreated':
        add(lookups.matches, t, event.data.matchId);
        add(lookups.entriesByMatch, t, event.data.matchId);
        add(lookups.challengesByMatch, t, event.data.matchId);
        break;
      case 'MatchAborted':
        add(lookups.matches, t, event.data.matchId);
        break;
      case 'ChallengeIssued':
      case 'ChallengeAccepted':
      case 'ChallengeDeclined':
      case 'ChallengeCancelled':
      case 'ChallengeExpired':
        add(lookups.challenges, t, event.data.challengeId);
        break;
      default:
        break;
    }
  }
  return lookups;
}

/** A map by (tenant, id) without building a combined key per lookup. */
class KeyMap<V> {
  private readonly byTenant = new Map<string, Map<string, V>>();
  size = 0;
  get(tenantId: string, id: string): V | undefined {
    return this.byTenant.get(tenantId)?.get(id);
  }
  has(tenantId: string, id: string): boolean {
    return this.byTenant.get(tenantId)?.has(id) ?? false;
  }
  set(tenantId: string, id: string, value: V): void {
    let inner = this.byTenant.get(tenantId);
    if (!inner) {
      inner = new Map();
      this.byTenant.set(tenantId, inner);
    }
    if (!inner.has(id)) this.size++;
    inner.set(id, value);
  }
  delete(tenantId: string, id: string): void {
    const inner = this.byTenant.get(tenantId);
    if (inner?.delete(id)) this.size--;
  }
  *entries(): Generator<[string, string, V]> {
    for (const [tenantId, inner] of this.byTenant) for (const [id, value] of inner) yield [tenantId, id, value];
  }
}

/** A secondary index: rows by (tenant, value of a column), kept up to date as the column changes. */
class ByColumn<R extends { tenant_id: Cell }> {
  private readonly map = new KeyMap<Set<Held<R>>>();
  constructor(private readonly column: keyof R) {}
  add(held: Held<R>): void {
    const value = held.row[this.column];
    if (value === null) return;
    const tenantId = held.row.tenant_id as string;
    let set = this.map.get(tenantId, value as string);
    if (!set) {
      set = new Set();
      this.map.set(tenantId, value as string, set);
    }
    set.add(held);
  }
  remove(held: Held<R>): void {
    const value = held.row[this.column];
    if (value === null) return;
    const tenantId = held.row.tenant_id as string;
    const set = this.map.get(tenantId, value as string);
    set?.delete(held);
    if (set?.size === 0) this.map.delete(tenantId, value as string);
  }
  /** Sets the column, moving the row in the index. */
  set(held: Held<R>, value: Cell): void {
    this.remove(held);
    (held.row as Record<string, Cell>)[this.column as string] = value;
    this.add(held);
  }
  get(tenantId: string, value: string): Held<R>[] {
    const set = this.map.get(tenantId, value);
    return set ? [...set] : [];
  }
}

/** A value in COPY's text format, as the handlers' bind parameters would be (see `inlineParams`). */
export function copyText(value: Cell | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} into a read model`);
    return String(value);
  }
  return /[\\\n\r\t]/.test(value)
    ? value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'))
    : value;
}

/** A row as a line of COPY's text format (columns in `columns` order). */
export function copyLine(row: Record<string, Cell>, columns: readonly string[]): string {
  let line = copyText(row[columns[0]!]);
  for (let i = 1; i < columns.length; i++) line += `\t${copyText(row[columns[i]!])}`;
  return `${line}\n`;
}

/**
 * A batch's changed rows as they were when it was cut: COPY's text format, in pieces of many
 * lines — made at the cut, or, for the last batch ({@link ReadModelFold.cut} `last`), while they
 * are read (once).
 */
export interface BatchChanges {
  queueEntries: FoldTable<Iterable<string>>;
  matches: FoldTable<Iterable<string>>;
  challenges: FoldTable<Iterable<string>>;
}

/**
 * A Bloom filter of the keys of rows the fold dropped: a key it has never seen is not in the
 * target (when the target was empty at the start), so only dropped keys (and ≈ 1 % others)
 * are read back.
 */
class DroppedKeys {
  private readonly bits = new Uint32Array(1 << 20); // 2^25 bits, 4 MB
  private count = 0;
  private static hash(text: string, seed: number): number {
    let h = seed;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    return (h ^ (h >>> 15)) >>> 0;
  }
  add(text: string): void {
    const a = DroppedKeys.hash(text, 2166136261);
    const b = DroppedKeys.hash(text, 374761393) | 1;
    for (let i = 0; i < 3; i++) {
      const bit = (a + i * b) & 0x1ffffff;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }
  has(text: string): boolean {
    if (this.count === 0) return false;
    const a = DroppedKeys.hash(text, 2166136261);
    const b = DroppedKeys.hash(text, 374761393) | 1;
    for (let i = 0; i < 3; i++) {
      const bit = (a + i * b) & 0x1ffffff;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * The read models folded in memory, batch after batch. The rows stay in memory between
 * batches (as the target schema holds them once the batch commits) up to `maxRows`; beyond
 * it the committed rows touched longest ago are dropped, and a page that reaches a dropped row
 * reads it back from the target first ({@link ReadModelFold.lookupsFor}). A fold that did not
 * start from an empty target reads every row it reaches and does not hold.
 */
export class ReadModelFold {
  private readonly entries = new KeyMap<Held<QueueEntryRow>>();
  private readonly entriesByMatch = new ByColumn<QueueEntryRow>('match_id');
  private readonly entriesByHolder = new ByColumn<QueueEntryRow>('held_by_match_id');
  private readonly matches = new KeyMap<Held<MatchRow>>();
  private readonly challenges = new KeyMap<Held<ChallengeRow>>();
  private readonly challengesByMatch = new ByColumn<ChallengeRow>('match_id');
  private dirtyEntries = new Set<Held<QueueEntryRow>>();
  private dirtyMatches = new Set<Held<MatchRow>>();
  private dirtyChallenges = new Set<Held<ChallengeRow>>();
  /** The batch being folded (cut() moves to the next). */
  private batch = 0;
  private readonly targetEmpty: boolean;
  private readonly dropped = new DroppedKeys();
  private droppedAny = false;
  private readonly maxRows: number;

  constructor(options: { targetEmpty: boolean; maxRows?: number }) {
    this.targetEmpty = options.targetEmpty;
    this.maxRows = options.maxRows ?? 500_000;
  }

  get size(): number {
    return this.entries.size + this.matches.size + this.challenges.size;
  }

  /** What the target schema must answer before `events` are applied: null when every row they reach is in memory. */
  lookupsFor(events: readonly (ProjectedEvent | null)[]): FoldLookups | null {
    if (this.targetEmpty && !this.droppedAny) return null;
    const lookups = foldLookups(events.filter((e): e is ProjectedEvent => e !== null));
    const stored = (prefix: string, k: string) => !this.targetEmpty || this.dropped.has(prefix + k);
    const keep = (map: Map<string, [string, string]>, prefix: string, held?: KeyMap<unknown>) => {
      for (const [k, [tenantId, id]] of map) if (held?.has(tenantId, id) || !stored(prefix, k)) map.delete(k);
      return map.size;
    };
    const wanted =
      keep(lookups.entries, 'e', this.entries) +
      keep(lookups.matches, 'm', this.matches) +
      keep(lookups.challenges, 'c', this.challenges) +
      keep(lookups.entriesByMatch, 'E') +
      keep(lookups.entriesByHolder, 'H') +
      keep(lookups.challengesByMatch, 'C');
    return wanted > 0 ? lookups : null;
  }

  /** A stored row read from the target (ignored when the fold holds that row: its copy is as new or newer). */
  loadEntry(row: QueueEntryRow): void {
    const [tenantId, id] = [row.tenant_id as string, row.queue_entry_id as string];
    if (this.entries.has(tenantId, id)) return;
    const held = { row, stored: true, touched: this.batch };
    this.entries.set(tenantId, id, held);
    this.entriesByMatch.add(held);
    this.entriesByHolder.add(held);
  }

  loadMatch(row: MatchRow): void {
    const [tenantId, id] = [row.tenant_id as string, row.match_id as string];
    if (!this.matches.has(tenantId, id)) this.matches.set(tenantId, id, { row, stored: true, touched: this.batch });
  }

  loadChallenge(row: ChallengeRow): void {
    const [tenantId, id] = [row.tenant_id as string, row.challenge_id as string];
    if (this.challenges.has(tenantId, id)) return;
    const held = { row, stored: true, touched: this.batch };
    this.challenges.set(tenantId, id, held);
    this.challengesByMatch.add(held);
  }

  /**
   * Ends the batch: copies of the rows it inserted (new to the target) and of the stored rows
   * it changed, to be written with the batch; the rows count as stored from here on (the
   * batches commit in order). Returns the batch's number.
   *
   * `last`: nothing is folded after this batch, so its rows stay as they are and their COPY
   * text is made as the write reads it — the write starts at once and PostgreSQL takes in the
   * first pieces while the next are made — instead of all of it before the write (≈ 0.2 s of
   * a 1M-event rebuild's serial end).
   */
  cut(options: { last?: boolean } = {}): { batch: number; changes: BatchChanges } {
    const split = <R extends Record<string, Cell>>(dirty: Set<Held<R>>, columns: readonly string[]) => {
      const inserted: R[] = [];
      const updated: R[] = [];
      for (const held of dirty) {
        (held.stored ? updated : inserted).push(held.row);
        held.stored = true;
      }
      const text = (rows: R[]) => (options.last ? copyPieces(rows, columns) : [...copyPieces(rows, columns)]);
      return { inserted: text(inserted), updated: text(updated) } satisfies FoldTable<Iterable<string>>;
    };
    const changes = {
      queueEntries: split(this.dirtyEntries, QUEUE_ENTRY_COLUMNS),
      matches: split(this.dirtyMatches, MATCH_COLUMNS),
      challenges: split(this.dirtyChallenges, CHALLENGE_COLUMNS),
    };
    this.dirtyEntries = new Set();
    this.dirtyMatches = new Set();
    this.dirtyChallenges = new Set();
    return { batch: this.batch++, changes };
  }

  /** Batch `batch` is committed: beyond `maxRows`, rows last touched by it or earlier are dropped (oldest first). */
  committed(batch: number): void {
    if (this.size <= this.maxRows) return;
    const keep = Math.floor(this.maxRows * 0.75);
    this.droppedAny = true;
    const drop = <R extends { tenant_id: Cell }>(
      map: KeyMap<Held<R>>,
      prefix: string,
      indexes: [ByColumn<R>, string, keyof R][],
    ) => {
      const old: [string, string, Held<R>][] = [];
      for (const entry of map.entries()) {
        if (this.size - old.length <= keep) break;
        if (entry[2].touched <= batch) old.push(entry);
      }
      for (const [tenantId, id, held] of old) {
        map.delete(tenantId, id);
        this.dropped.add(prefix + key(tenantId, id));
        for (const [index, indexPrefix, column] of indexes) {
          const value = held.row[column];
          if (value !== null) this.dropped.add(indexPrefix + key(held.row.tenant_id as string, value as string));
          index.remove(held);
        }
      }
    };
    drop(this.entries, 'e', [
      [this.entriesByMatch, 'E', 'match_id'],
      [this.entriesByHolder, 'H', 'held_by_match_id'],
    ]);
    drop(this.matches, 'm', []);
    drop(this.challenges, 'c', [[this.challengesByMatch, 'C', 'match_id']]);
  }

  private touchEntry(held: Held<QueueEntryRow>): void {
    held.touched = this.batch;
    this.dirtyEntries.add(held);
  }

  private touchMatch(held: Held<MatchRow>): void {
    held.touched = this.batch;
    this.dirtyMatches.add(held);
  }

  private touchChallenge(held: Held<ChallengeRow>): void {
    held.touched = this.batch;
    this.dirtyChallenges.add(held);
  }

  /** One event, as `applyToReadModels` applies it. */
  apply(event: ProjectedEvent): void {
    const { tenantId, position } = event;
    switch (event.type) {
      case 'QueueJoined': {
        const d = event.data;
        if (this.entries.has(tenantId, d.queueEntryId)) return; // ON CONFLICT DO NOTHING
        const held: Held<QueueEntryRow> = {
          row: {
            tenant_id: tenantId,
            queue_entry_id: d.queueEntryId,
            user_id: d.userId,
            pool_key: d.pool.key,
            time_control: d.pool.timeControl,
            mode: d.pool.mode,
            rating: d.rating,
            rating_source: d.ratingSource,
            // as the handler binds zod's copy, its keys only (the fold gets the data as stored, unknown keys kept)
            rating_range:
              d.ratingRange === null ? null : JSON.stringify({ min: d.ratingRange.min, max: d.ratingRange.max }),
            status: 'SEARCHING',
            enqueued_at: d.enqueuedAt,
            ended_at: null,
            match_id: null,
            opponent_id: null,
            colour: null,
            game_id: null,
            held_by_match_id: null,
            last_position: position,
          },
          stored: false,
          touched: this.batch,
        };
        this.entries.set(tenantId, d.queueEntryId, held);
        this.dirtyEntries.add(held);
        return;
      }
      case 'QueueCancelled':
        this.updateEntry(event, event.data.queueEntryId, (row) => {
          row.status = 'CANCELLED';
          row.ended_at = event.data.cancelledAt;
        });
        return;
      case 'QueueTimedOut':
        this.updateEntry(event, event.data.queueEntryId, (row) => {
          row.status = 'TIMED_OUT';
          row.ended_at = event.data.timedOutAt;
        });
        return;
      case 'QueueEntryMatched':
        this.updateEntry(event, event.data.queueEntryId, (row, held) => {
          row.status = 'MATCHED';
          row.ended_at = event.data.matchedAt;
          this.entriesByMatch.set(held, event.data.matchId);
          row.opponent_id = event.data.opponent.userId;
        });
        return;
      case 'QueueEntryReleased':
        this.updateEntry(event, event.data.queueEntryId, (row, held) => {
          row.status = 'SEARCHING';
          row.ended_at = null;
          this.entriesByMatch.set(held, null);
          row.opponent_id = null;
          row.colour = null;
          row.game_id = null;
        });
        return;
      case 'QueueEntryGameStarted':
        if (event.data.queueEntryId === null) return;
        this.updateEntry(event, event.data.queueEntryId, (row) => {
          row.game_id = event.data.gameId;
          row.colour = event.data.colour;
        });
        return;
      case 'ChallengeMatchClaimed':
        if (event.data.heldQueueEntryId === null) return;
        this.updateEntry(event, event.data.heldQueueEntryId, (_row, held) => {
          this.entriesByHolder.set(held, event.data.matchId);
        });
        return;
      case 'ChallengeMatchReleased':
        // WHERE tenant_id AND held_by_match_id = matchId AND user_id = userId AND last_position < position
        for (const held of this.entriesByHolder.get(tenantId, event.data.matchId)) {
          if (held.row.user_id !== event.data.userId || held.row.last_position >= position) continue;
          this.entriesByHolder.set(held, null);
          held.row.last_position = position;
          this.touchEntry(held);
        }
        return;
      case 'MatchCreated': {
        const d = event.data;
        if (!this.matches.has(tenantId, d.matchId)) {
          const held: Held<MatchRow> = {
            row: {
              tenant_id: tenantId,
              match_id: d.matchId,
              source: d.source,
              challenge_id: d.challengeId ?? null,
              pool_key: d.pool.key,
              time_control: d.pool.timeControl,
              mode: d.pool.mode,
              white_user_id: d.white.userId,
              black_user_id: d.black.userId,
              white_entry_id: d.white.queueEntryId,
              black_entry_id: d.black.queueEntryId,
              white_rating: d.white.rating,
              black_rating: d.black.rating,
              rating_gap: d.ratingGap,
              status: 'CREATING_GAME',
              game_id: null,
              abort_reason: null,
              decided_at: d.decidedAt,
              finished_at: null,
              last_position: position,
            },
            stored: false,
            touched: this.batch,
          };
          this.matches.set(tenantId, d.matchId, held);
          this.dirtyMatches.add(held);
        }
        // SET colour = CASE queue_entry_id WHEN white THEN 'white' ELSE 'black' END
        // WHERE queue_entry_id IN (white ?? '', black ?? '') AND match_id = matchId (no guard, last_position kept)
        const white = d.white.queueEntryId ?? '';
        const black = d.black.queueEntryId ?? '';
        for (const id of white === black ? [white] : [white, black]) {
          const held = this.entries.get(tenantId, id);
          if (!held || held.row.match_id !== d.matchId) continue;
          held.row.colour = id === white ? 'white' : 'black';
          this.touchEntry(held);
        }
        return;
      }
      case 'GameCreated': {
        const d = event.data;
        const match = this.matches.get(tenantId, d.matchId);
        if (match && match.row.last_position < position) {
          match.row.status = 'GAME_CREATED';
          match.row.game_id = d.gameId;
          match.row.finished_at = d.createdAt;
          match.row.last_position = position;
          this.touchMatch(match);
        }
        for (const held of this.entriesByMatch.get(tenantId, d.matchId)) {
          held.row.game_id = d.gameId;
          this.touchEntry(held);
        }
        for (const held of this.challengesByMatch.get(tenantId, d.matchId)) {
          held.row.game_id = d.gameId;
          this.touchChallenge(held);
        }
        return;
      }
      case 'MatchAborted': {
        const match = this.matches.get(tenantId, event.data.matchId);
        if (match && match.row.last_position < position) {
          match.row.status = 'ABORTED';
          match.row.abort_reason = event.data.reason;
          match.row.finished_at = event.data.abortedAt;
          match.row.last_position = position;
          this.touchMatch(match);
        }
        return;
      }
      case 'ChallengeIssued': {
        const d = event.data;
        if (this.challenges.has(tenantId, d.challengeId)) return;
        const held: Held<ChallengeRow> = {
          row: {
            tenant_id: tenantId,
            challenge_id: d.challengeId,
            challenger_id: d.challengerId,
            opponent_id: d.opponentId,
            time_control: d.timeControl,
            mode: d.mode,
            color: d.challengerColour,
            message: d.message,
            status: 'PENDING',
            decline_reason: null,
            match_id: null,
            game_id: null,
            created_at: d.issuedAt,
            expires_at: d.expiresAt,
            ended_at: null,
            last_position: position,
          },
          stored: false,
          touched: this.batch,
        };
        this.challenges.set(tenantId, d.challengeId, held);
        this.challengesByMatch.add(held);
        this.dirtyChallenges.add(held);
        return;
      }
      case 'ChallengeAccepted':
        this.updateChallenge(event, event.data.challengeId, (row, held) => {
          row.status = 'ACCEPTED';
          this.challengesByMatch.set(held, event.data.matchId);
          row.ended_at = event.data.acceptedAt;
        });
        return;
      case 'ChallengeDeclined':
        this.updateChallenge(event, event.data.challengeId, (row) => {
          row.status = 'DECLINED';
          row.decline_reason = event.data.reason;
          row.ended_at = event.data.declinedAt;
        });
        return;
      case 'ChallengeCancelled':
        this.updateChallenge(event, event.data.challengeId, (row) => {
          row.status = 'CANCELLED';
          row.ended_at = event.data.cancelledAt;
        });
        return;
      case 'ChallengeExpired':
        this.updateChallenge(event, event.data.challengeId, (row) => {
          row.status = 'EXPIRED';
          row.ended_at = event.data.expiredAt;
        });
        return;
      default:
        return; // ChallengeSent, ChallengeSettled and the pool's events touch no read model
    }
  }

  /** `UPDATE queue_entries SET …, last_position = $p WHERE tenant_id AND queue_entry_id AND last_position < $p` */
  private updateEntry(
    event: ProjectedEvent,
    queueEntryId: string,
    set: (row: QueueEntryRow, held: Held<QueueEntryRow>) => void,
  ): void {
    const held = this.entries.get(event.tenantId, queueEntryId);
    if (!held || held.row.last_position >= event.position) return;
    set(held.row, held);
    held.row.last_position = event.position;
    this.touchEntry(held);
  }

  private updateChallenge(
    event: ProjectedEvent,
    challengeId: string,
    set: (row: ChallengeRow, held: Held<ChallengeRow>) => void,
  ): void {
    const held = this.challenges.get(event.tenantId, challengeId);
    if (!held || held.row.last_position >= event.position) return;
    set(held.row, held);
    held.row.last_position = event.position;
    this.touchChallenge(held);
  }
}

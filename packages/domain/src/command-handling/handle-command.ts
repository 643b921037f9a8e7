import { randomUUID } from 'node:crypto';
import { eventSchemas, type MatchmakingEvent } from '@mm/contracts';
import type { CurrentRevision, EventData, EventMetadata, EventStore, Json, StreamAppend } from '@mm/event-store';
import { isWrongExpectedRevision } from '@mm/event-store';
import type { Decider } from '../decider/decider.js';
import type { DomainError } from '../errors/domain-error.js';
import { cachedState, type LoadedState, loadState, rememberState } from './load-state.js';

/**
 * Event ids for the events a command produces. Pass deterministic ids when the command
 * may be retried (workers): the store appends idempotently by event id, so a retry after
 * an unknown outcome cannot duplicate events.
 */
export type EventIds = readonly string[] | ((index: number, event: MatchmakingEvent) => string);

export interface RetryOptions {
  /** Attempts in total (first try included) when the stream moved under us. @defaultValue 5 */
  maxAttempts?: number;
  /** Base delay before the first retry; doubles each time, with ±50% jitter. @defaultValue 5 */
  baseDelayMs?: number;
}

export interface HandleCommandOptions<State, Command, Event extends MatchmakingEvent> {
  store: EventStore;
  streamName: string;
  decider: Decider<State, Command, Event>;
  command: Command;
  /** Stamped on every appended event (tenant, correlation, causation, actor). */
  metadata: EventMetadata;
  /** @defaultValue a random UUID per event */
  eventIds?: EventIds;
  retry?: RetryOptions;
  /**
   * The stream as the caller just read it: the first attempt decides on it instead of reading
   * again (one round trip less). If the stream moved since, the append conflicts and the next
   * attempt reads afresh, so a stale value costs a retry, never a wrong decision.
   */
  loaded?: Pick<LoadedState<State>, 'state' | 'revision'>;
  /**
   * Decide on the state this process holds for the stream (`cacheStatesOf` deciders), without
   * reading, when it holds one. Worth it where this process most likely wrote the stream last
   * (a worker recording the game of a pair it claimed): a stale state costs a conflicting append
   * and then a read, more than the read it saves — so not for the API, whose players' streams the
   * workers write between two of their commands. @defaultValue false
   */
  decideOnCachedState?: boolean;
}

/** An event as this call appended it: the envelope sent, with its stream and revision. */
export type AppendedEvent = EventData & { streamName: string; revision: number };

export type HandleCommandResult<State> =
  | {
      ok: true;
      /** The events appended by this call (empty when the decider had nothing to do). */
      events: AppendedEvent[];
      /** Global position of the last appended event (absent when nothing was appended). */
      position?: number;
      /** State after the appended events. */
      state: State;
      nextExpectedRevision: CurrentRevision;
    }
  | { ok: false; error: DomainError };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const eventIdFor = (eventIds: EventIds | undefined, index: number, event: MatchmakingEvent): string => {
  if (eventIds === undefined) return randomUUID();
  const id = typeof eventIds === 'function' ? eventIds(index, event) : eventIds[index];
  if (!id) throw new Error(`no event id given for event #${index} (${event.type})`);
  return id;
};

/** The envelopes to append for decided events (data validated against the contracts schema). */
const toEventData = (
  events: readonly MatchmakingEvent[],
  metadata: EventMetadata,
  eventIds: EventIds | undefined,
): EventData[] =>
  events.map((event, index) => {
    const { schemaVersion, schema } = eventSchemas[event.type];
    return {
      id: eventIdFor(eventIds, index, event),
      type: event.type,
      schemaVersion,
      data: schema.parse(event.data) as Json,
      metadata,
    };
  });

export type DecideAppendResult<State> =
  | {
      ok: true;
      /** What to append, at the revision the decision was made on; null when there is nothing to do. */
      append: StreamAppend | null;
      /** State after the decided events. */
      state: State;
    }
  | { ok: false; error: DomainError };

/**
 * Decide → envelopes, without appending: for a caller that commits several streams' decisions
 * together (`EventStore.appendToStreams`). The append expects the stream at the revision the
 * state was loaded at, so a stale state makes the commit conflict instead of deciding wrongly.
 */
export const decideAppend = <State, Command, Event extends MatchmakingEvent>(
  options: Pick<
    HandleCommandOptions<State, Command, Event>,
    'streamName' | 'decider' | 'command' | 'metadata' | 'eventIds'
  > & {
    loaded: Pick<LoadedState<State>, 'state' | 'revision'>;
  },
): DecideAppendResult<State> => {
  const { state, revision } = options.loaded;
  const decision = options.decider.decide(options.command, state);
  if (!decision.ok) return decision;
  if (decision.events.length === 0) return { ok: true, append: null, state };
  return {
    ok: true,
    append: {
      streamName: options.streamName,
      events: toEventData(decision.events, options.metadata, options.eventIds),
      expectedRevision: revision === 'no_stream' ? 'no_stream' : revision,
    },
    state: decision.events.reduce(options.decider.evolve, state),
  };
};

/**
 * Read → fold → decide → append with the expected revision. On a concurrent write
 * (`WrongExpectedRevisionError`) the whole cycle is re-run on fresh state, a few times,
 * with jittered backoff; if the stream keeps moving the last conflict error is thrown
 * (an unexpected condition, not a business outcome). Event data is validated against
 * the contracts schema before appending; a schema violation throws (a bug in a decider).
 *
 * With `decideOnCachedState`, when this process holds the stream's state (`cacheStatesOf`
 * deciders), the first attempt decides on it without reading: a decision that appends is made
 * safe by the expected revision — a stale state conflicts, and the stream is read (no backoff,
 * no attempt counted) — while a refusal or a decision with nothing to do is only answered after
 * a fresh read confirms it, because a stale state would make it a wrong answer.
 */
export const handleCommand = async <State, Command, Event extends MatchmakingEvent>(
  options: HandleCommandOptions<State, Command, Event>,
): Promise<HandleCommandResult<State>> => {
  const { store, streamName, decider, command, metadata, eventIds } = options;
  const maxAttempts = options.retry?.maxAttempts ?? 5;
  const baseDelayMs = options.retry?.baseDelayMs ?? 5;
  let fromCache = options.decideOnCachedState === true && options.loaded === undefined;

  for (let attempt = 1; ; attempt++) {
    let loaded: Pick<LoadedState<State>, 'state' | 'revision'> | undefined =
      attempt === 1 ? (options.loaded ?? undefined) : undefined;
    if (loaded === undefined && fromCache) loaded = cachedState<State>(store, streamName, decider);
    if (loaded === undefined) {
      fromCache = false;
      loaded = await loadState(store, streamName, decider);
    }
    let { state, revision } = loaded;
    let decision = decider.decide(command, state);
    if (fromCache && (!decision.ok || decision.events.length === 0)) {
      // Not an append: confirm on the stream as it is now.
      fromCache = false;
      ({ state, revision } = await loadState(store, streamName, decider));
      decision = decider.decide(command, state);
    }
    if (!decision.ok) return decision;
    if (decision.events.length === 0) return { ok: true, events: [], state, nextExpectedRevision: revision };

    const toAppend = toEventData(decision.events, metadata, eventIds);

    try {
      const appended = await store.appendToStream(streamName, toAppend, {
        expectedRevision: revision === 'no_stream' ? 'no_stream' : revision,
      });
      // What was appended is known: no read-back (one round trip less on every command).
      const firstRevision = appended.nextExpectedRevision - toAppend.length + 1;
      const events = toAppend.map((event, index) => ({ ...event, streamName, revision: firstRevision + index }));
      const next = decision.events.reduce(decider.evolve, state);
      rememberState(store, decider, streamName, appended.nextExpectedRevision, next);
      return {
        ok: true,
        events,
        position: appended.position,
        state: next,
        nextExpectedRevision: appended.nextExpectedRevision,
      };
    } catch (error) {
      if (!isWrongExpectedRevision(error)) throw error;
      if (fromCache) {
        // The cached state was stale: read the stream now (not a race lost, no attempt spent).
        fromCache = false;
        attempt--;
        continue;
      }
      if (attempt >= maxAttempts) throw error;
      const backoff = baseDelayMs * 2 ** (attempt - 1);
      await sleep(backoff * (0.5 + Math.random()));
    }
  }
};

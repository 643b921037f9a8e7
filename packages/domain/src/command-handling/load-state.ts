import { type MatchmakingEvent, parseEvent } from '@mm/contracts';
import type { CurrentRevision, EventStore, RecordedEvent } from '@mm/event-store';
import type { Decider } from '../decider/decider.js';
import { stateCacheFor } from './state-cache.js';

export interface LoadedState<State> {
  state: State;
  /** Revision of the stream's last event, or `no_stream` (use as the next expected revision). */
  revision: CurrentRevision;
  /**
   * The events this call read: the whole stream, or — when the state came from the state cache
   * (see {@link cacheStatesOf}) and `events: 'all'` was not asked for — only those after the
   * cached revision.
   */
  events: RecordedEvent[];
}

export interface LoadStateOptions {
  /** `all`: read the whole stream (the caller looks at its events), never from the cache. */
  events?: 'all';
}

/**
 * Reads a stream and folds it. Each stored event goes through the contracts'
 * `parseEvent`, so older schema versions are upcast before `evolve` sees them.
 *
 * For deciders whose streams live long (the player's: every join, claim and game of a player,
 * for years), the state is cached per store and stream (`state-cache.ts`): a later load reads
 * only the events after the cached revision and folds them onto the cached state — a command's
 * cost no longer grows with the player's history. Events are immutable and revisions
 * contiguous, so the result is the same state a full read would give (and `evolve` never
 * mutates a state: it returns a new one).
 */
export const loadState = async <State, Event extends MatchmakingEvent>(
  store: EventStore,
  streamName: string,
  decider: Pick<Decider<State, unknown, Event>, 'evolve' | 'initialState'>,
  options: LoadStateOptions = {},
): Promise<LoadedState<State>> => {
  const cache = options.events === 'all' ? undefined : stateCacheFor<State>(store, decider);
  const cached = cache?.get(streamName);
  const events = cached
    ? await store.readStream(streamName, { fromRevision: cached.revision + 1 })
    : await store.readStream(streamName);
  let state = cached ? cached.state : decider.initialState();
  for (const recorded of events)
    state = decider.evolve(state, parseEvent(recorded.type, recorded.schemaVersion, recorded.data) as Event);
  const last = events.at(-1);
  const revision: CurrentRevision = last ? last.revision : cached ? cached.revision : 'no_stream';
  if (typeof revision === 'number') stateCacheFor<State>(store, decider)?.set(streamName, revision, state);
  return { state, revision, events };
};

/**
 * The cached state of a stream, without reading it: undefined unless the decider's states are
 * cached and this stream's is held. It may be stale (another process appended since): a caller
 * decides on it only to append with its revision as the expected one, so a stale state makes
 * the append conflict instead of deciding wrongly — and anything else it would conclude (a
 * refusal, nothing to do) must be confirmed on a fresh read ({@link handleCommand} does both).
 */
export const cachedState = <State>(
  store: EventStore,
  streamName: string,
  decider: object,
): Pick<LoadedState<State>, 'state' | 'revision'> | undefined => {
  const cached = stateCacheFor<State>(store, decider)?.get(streamName);
  return cached ? { state: cached.state, revision: cached.revision } : undefined;
};

/**
 * After an append of the decided events at `revision` (the stream's new last revision), the
 * state they lead to: the next load of the stream starts from it.
 */
export const rememberState = <State>(
  store: EventStore,
  decider: object,
  streamName: string,
  revision: number,
  state: State,
): void => {
  stateCacheFor<State>(store, decider)?.set(streamName, revision, state);
};

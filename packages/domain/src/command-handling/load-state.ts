import { type MatchmakingEvent, parseEvent } from '@mm/contracts';
import type { CurrentRevision, EventStore, RecordedEvent } from '@mm/event-store';
import type { Decider } from '../decider/decider.js';

export interface LoadedState<State> {
  state: State;
  /** Revision of the stream's last event, or `no_stream` (use as the next expected revision). */
  revision: CurrentRevision;
  events: RecordedEvent[];
}

/**
 * Reads a stream and folds it. Each stored event goes through the contracts'
 * `parseEvent`, so older schema versions are upcast before `evolve` sees them.
 */
export const loadState = async <State, Event extends MatchmakingEvent>(
  store: EventStore,
  streamName: string,
  decider: Pick<Decider<State, unknown, Event>, 'evolve' | 'initialState'>,
): Promise<LoadedState<State>> => {
  const events = await store.readStream(streamName);
  let state = decider.initialState();
  for (const recorded of events)
    state = decider.evolve(state, parseEvent(recorded.type, recorded.schemaVersion, recorded.data) as Event);
  const last = events.at(-1);
  return { state, revision: last ? last.revision : 'no_stream', events };
};

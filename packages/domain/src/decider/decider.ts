import type { MatchmakingEvent } from '@mm/contracts';
import type { DomainError, DomainErrorCode } from '../errors/domain-error.js';

/** What `decide` returns: the events to append (possibly none = nothing to do), or an expected failure. */
export type DecideResult<Event extends MatchmakingEvent = MatchmakingEvent> =
  | { ok: true; events: Event[] }
  | { ok: false; error: DomainError };

/**
 * A decider (Emmett style): pure functions, no I/O; time comes in with the command.
 * `evolve` must accept every event of its stream and ignore types it does not know.
 */
export interface Decider<State, Command, Event extends MatchmakingEvent = MatchmakingEvent> {
  decide(command: Command, state: State): DecideResult<Event>;
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export const accept = <Event extends MatchmakingEvent>(...events: Event[]): DecideResult<Event> => ({
  ok: true,
  events,
});

/** Nothing to do: the command's effect is already there (idempotent repeat) or it no longer applies. */
export const nothing = <Event extends MatchmakingEvent>(): DecideResult<Event> => ({ ok: true, events: [] });

export const reject = <Event extends MatchmakingEvent>(
  code: DomainErrorCode,
  message: string,
): DecideResult<Event> => ({
  ok: false,
  error: { code, message },
});

/** Folds events into a state. */
export const fold = <State, Event extends MatchmakingEvent>(
  decider: Pick<Decider<State, unknown, Event>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State => events.reduce(decider.evolve, decider.initialState());

import { playerStream } from '@mm/contracts';
import {
  handleCommand,
  type LoadedState,
  loadState,
  type PlayerCommand,
  type PlayerState,
  playerDecider,
} from '@mm/domain';
import type { EventStore } from '@mm/event-store';
import { runConfirmed } from '../errors/command-outcome.js';
import { domainProblem } from '../errors/domain-problems.js';
import { type Caller, commandMetadata } from './caller.js';

/** The player aggregate, bound once: its stream, its decider, the caller's metadata, truthful outcomes. */
export interface PlayerCommands {
  /** The caller's player stream, folded. */
  load(caller: Caller): Promise<LoadedState<PlayerState>>;
  /**
   * Runs `command` on the caller's player stream and returns the state after it; a rejection
   * is thrown as its problem (409…). When the store fails mid-append, `applied` tells from the
   * stream read back whether the command took effect (see `runConfirmed`).
   */
  handle(caller: Caller, command: PlayerCommand, applied: (state: PlayerState) => boolean): Promise<PlayerState>;
}

export function createPlayerCommands(store: EventStore): PlayerCommands {
  const streamOf = (caller: Caller) => playerStream(caller.principal.tenantId, caller.principal.userId);
  const load = (caller: Caller) => loadState(store, streamOf(caller), playerDecider);
  return {
    load,
    async handle(caller, command, applied) {
      const result = await runConfirmed(
        async () => {
          const handled = await handleCommand({
            store,
            streamName: streamOf(caller),
            decider: playerDecider,
            command,
            metadata: commandMetadata(caller),
          });
          if (!handled.ok) throw domainProblem(handled.error);
          return handled.state;
        },
        async () => {
          const { state } = await load(caller);
          return applied(state) ? state : null;
        },
        {
          onConfirmed: (wasApplied, error) =>
            caller.log.warn(
              { err: error, applied: wasApplied },
              'a backing service failed during the command: outcome read back',
            ),
        },
      );
      return result;
    },
  };
}

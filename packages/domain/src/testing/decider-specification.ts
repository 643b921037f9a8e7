import { deepStrictEqual, fail } from 'node:assert/strict';
import type { MatchmakingEvent } from '@mm/contracts';
import type { Decider } from '../decider/decider.js';
import type { DomainErrorCode } from '../errors/domain-error.js';

export interface Then<Event> {
  /** The command produces exactly these events. */
  then(expected: Event[]): void;
  /** The command is accepted but has nothing to do (idempotent repeat / no longer applies). */
  thenNothing(): void;
  /** The command is rejected with this code; returns the message for further checks. */
  thenError(code: DomainErrorCode): string;
}

/**
 * Specification-style tests for a decider (Emmett's `DeciderSpecification`):
 *
 * ```ts
 * const given = specFor(playerDecider);
 * given([queueJoined]).when(cancel).then([queueCancelled]);
 * given([queueJoined, matched]).when(cancel).thenError('CANNOT_CANCEL');
 * ```
 *
 * Uses `node:assert`, so it works under any test runner.
 */
export const specFor =
  <State, Command, Event extends MatchmakingEvent>(decider: Decider<State, Command, Event>) =>
  (history: Event[]) => ({
    when(command: Command): Then<Event> {
      const run = () => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
      return {
        // biome-ignore lint/suspicious/noThenProperty: the spec reads given().when().then(); the object is never awaited
        then(expected) {
          const result = run();
          if (!result.ok) fail(`expected events, got error ${result.error.code}: ${result.error.message}`);
          deepStrictEqual(result.events, expected);
        },
        thenNothing() {
          const result = run();
          if (!result.ok) fail(`expected no events, got error ${result.error.code}: ${result.error.message}`);
          deepStrictEqual(result.events, []);
        },
        thenError(code) {
          const result = run();
          if (result.ok) fail(`expected error ${code}, got events ${JSON.stringify(result.events.map((e) => e.type))}`);
          deepStrictEqual(
            result.error.code,
            code,
            `expected error ${code}, got ${result.error.code}: ${result.error.message}`,
          );
          return result.error.message;
        },
      };
    },
  });

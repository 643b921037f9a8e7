import type { CurrentRevision, ExpectedRevision } from './types.js';

/** The stream was not at the revision the append expected. Stable code: `WRONG_EXPECTED_REVISION`. */
export class WrongExpectedRevisionError extends Error {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: CurrentRevision,
  ) {
    super(`stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

export const isWrongExpectedRevision = (error: unknown): error is WrongExpectedRevisionError =>
  error instanceof WrongExpectedRevisionError ||
  (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'WRONG_EXPECTED_REVISION');

/**
 * An event id in the append is already stored somewhere else: in another stream, or in this
 * stream but not as a replay of the same events in the same order. Stable code: `EVENT_ID_CONFLICT`.
 * (A plain replay of an append whose reply was lost is not an error: it returns the original result.)
 */
export class EventIdConflictError extends Error {
  readonly code = 'EVENT_ID_CONFLICT';
  constructor(
    readonly streamName: string,
    readonly eventIds: string[],
  ) {
    super(`stream ${streamName}: event id(s) already stored elsewhere or in another order: ${eventIds.join(', ')}`);
    this.name = 'EventIdConflictError';
  }
}

/** The subscription was closed before it caught up (rejects `caughtUp`). Stable code: `SUBSCRIPTION_CLOSED`. */
export class SubscriptionClosedError extends Error {
  readonly code = 'SUBSCRIPTION_CLOSED';
  constructor() {
    super('subscription closed before it caught up');
    this.name = 'SubscriptionClosedError';
  }
}

/** `EVENT_STORE_URL` names a scheme no adapter handles (yet). Stable code: `UNSUPPORTED_EVENT_STORE_URL`. */
export class UnsupportedEventStoreUrlError extends Error {
  readonly code = 'UNSUPPORTED_EVENT_STORE_URL';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedEventStoreUrlError';
  }
}

import { SubscriptionClosedError } from '../errors.js';
import type { SubscribeOptions } from '../types.js';

/** The `caughtUp` promise of a subscription and the means to settle it (once). */
export interface CaughtUpSignal {
  readonly caughtUp: Promise<void>;
  readonly isCaughtUp: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

export function createCaughtUpSignal(): CaughtUpSignal {
  let settled = false;
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const caughtUp = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody has to await caughtUp; a rejection after close/error must not crash the process.
  caughtUp.catch(() => undefined);
  return {
    caughtUp,
    get isCaughtUp() {
      return settled;
    },
    resolve() {
      settled = true;
      resolve();
    },
    reject(error) {
      if (!settled) reject(error);
    },
  };
}

/**
 * Turns a subscription's run loop into its `done` promise: a clean end before catching up
 * rejects `caughtUp` with {@link SubscriptionClosedError}; an error aborts, rejects
 * `caughtUp` (if still pending) and is reported through `onError`.
 */
export const settleRun = (
  run: Promise<void>,
  abort: AbortController,
  signal: CaughtUpSignal,
  onError: SubscribeOptions['onError'],
): Promise<void> =>
  run.then(
    () => signal.reject(new SubscriptionClosedError()),
    (error: unknown) => {
      abort.abort();
      signal.reject(error);
      onError?.(error);
    },
  );

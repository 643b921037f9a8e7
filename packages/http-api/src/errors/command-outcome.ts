import { isWrongExpectedRevision } from '@mm/event-store';
import { ProblemError, problems } from './problem.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown: terminating connection due to administrator command
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up / shutting down
  '53300', // too_many_connections
  '08000',
  '08003',
  '08006', // connection_exception family
]);

const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout|connect|ECONNREFUSED|Connection is closed|enableOfflineQueue|Stream isn't writeable|Client has encountered a connection error|the database system is|max retries per request/i;

/**
 * Whether an error means a backing service (event store, PostgreSQL, Redis) did not answer,
 * as opposed to a bug. Such a failure of a read is a 503; of a write, its outcome may be
 * unknown (see {@link runConfirmed}).
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ProblemError) return false;
  const code = (error as { code?: unknown })?.code;
  const message = String((error as { message?: unknown })?.message ?? '');
  return (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || UNAVAILABLE_MESSAGE.test(message);
}

export interface ConfirmOptions {
  /** How long to keep asking the store whether the command landed. @defaultValue 5000 */
  timeoutMs?: number;
  /** First pause between two questions (doubles up to 500 ms). @defaultValue 50 */
  intervalMs?: number;
  /** Told when an unknown outcome was settled by reading back (for the log). */
  onConfirmed?: (applied: boolean, error: unknown) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a command so that its answer never says "failed" for a command that was applied.
 *
 * - A conflict that kept recurring (`WRONG_EXPECTED_REVISION` after every retry) changed
 *   nothing: 503 `MATCHMAKING_UNAVAILABLE`.
 * - A backing service that did not answer may have failed before the write or after it (the
 *   commit landed, its reply was lost). The outcome is then read back with `confirm` — the
 *   stream state shows whether the command's effect is there — until the store answers or
 *   `timeoutMs` passes: applied → the command's success; not applied → 503, nothing written;
 *   still unknown → 503 saying so, and how to find out.
 * - Anything else is a bug and is rethrown (500).
 *
 * `confirm` returns the success value when the effect is in the log, `null` when it is not.
 */
export async function runConfirmed<T>(
  run: () => Promise<T>,
  confirm: () => Promise<T | null>,
  options: ConfirmOptions = {},
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    if (isWrongExpectedRevision(error))
      throw problems.unavailable('The resource kept changing under the command; nothing was changed. Retry shortly.');
    if (!isUnavailable(error)) throw error;
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    let pause = options.intervalMs ?? 50;
    for (;;) {
      try {
        const applied = await confirm();
        options.onConfirmed?.(applied !== null, error);
        if (applied !== null) return applied;
        throw problems.unavailable('A backing service did not answer; nothing was changed. Retry shortly.');
      } catch (readError) {
        if (readError instanceof ProblemError) throw readError;
        if (!isUnavailable(readError)) throw readError;
      }
      if (Date.now() + pause > deadline) break;
      await sleep(pause);
      pause = Math.min(500, pause * 2);
    }
    throw problems.unavailable(
      'A backing service did not answer and whether the command was applied could not be confirmed; read the resource (or GET /v1/matchmaking/active) before retrying.',
    );
  }
}

/**
 * For reads and for failures before any write: a backing service that did not answer is a
 * 503 `MATCHMAKING_UNAVAILABLE` (nothing was changed); anything else is rethrown as a bug.
 */
export function unavailableOrThrow(error: unknown): never {
  if (error instanceof ProblemError) throw error;
  if (isWrongExpectedRevision(error) || isUnavailable(error)) {
    throw problems.unavailable('A backing service did not answer; nothing was changed. Retry shortly.');
  }
  throw error;
}

/** A best-effort part of an answer (live figures, a game id from a read model): null when a backing service is away. */
export async function optional<T>(read: () => Promise<T>, onUnavailable?: (error: unknown) => void): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    onUnavailable?.(error);
    return null;
  }
}

/**
 * A read right after an applied command (the body of its answer): retried while the store
 * does not answer, for up to `timeoutMs`, so a blip does not turn an applied command's
 * answer into an error. If it never answers, 503 says the command was applied.
 */
export async function readAfterApplied<T>(read: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = 50;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      if (Date.now() + pause > deadline)
        throw problems.unavailable(
          'The command was applied, but its result could not be read back; read the resource again shortly.',
        );
      await sleep(pause);
      pause = Math.min(500, pause * 2);
    }
  }
}

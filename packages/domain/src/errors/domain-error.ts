/**
 * Expected business failures, as values. Each code maps to exactly one HTTP status so
 * the API layer never has to guess; the table is the single place to look it up.
 */
export const domainErrorStatus = {
  /** The player already has a searching queue entry (I1). */
  ALREADY_IN_QUEUE: 409,
  /** The player is in a match whose game is being created (I2). */
  ACTIVE_GAME_EXISTS: 409,
  /** A queue entry id was reused for a different entry. */
  DUPLICATE_QUEUE_ENTRY: 409,
  QUEUE_ENTRY_NOT_FOUND: 404,
  /** The entry is matched (I3) or already ended. */
  CANNOT_CANCEL: 409,
  /** A claim found the entry cancelled, timed out or claimed by another match (I2, I3). */
  ENTRY_NOT_SEARCHING: 409,
  /** `RecordGameStarted` for a match the player is not (or no longer) in. */
  NOT_IN_MATCH: 409,
  MATCH_NOT_FOUND: 404,
  MATCH_ALREADY_EXISTS: 409,
  MATCH_ABORTED: 409,
  GAME_ALREADY_CREATED: 409,
  CHALLENGE_NOT_FOUND: 404,
  CHALLENGE_ALREADY_EXISTS: 409,
  CANNOT_CHALLENGE_SELF: 400,
  /** The caller is a party of the challenge but not the one allowed to do this. */
  NOT_ALLOWED: 403,
  /** The challenge is not pending (answered, cancelled, or expired by time). */
  INVALID_CHALLENGE_STATE: 409,
  /** A player of the challenge is already matched / in a match being created. */
  CANNOT_ACCEPT_CHALLENGE: 409,
  /** The challenger has too many pending outgoing challenges. */
  TOO_MANY_PENDING_CHALLENGES: 429,
} as const;

export type DomainErrorCode = keyof typeof domainErrorStatus;

export interface DomainError {
  code: DomainErrorCode;
  message: string;
}

/** HTTP status for a domain error code. */
export const httpStatusOf = (code: DomainErrorCode): number => domainErrorStatus[code];

export const isDomainErrorCode = (code: string): code is DomainErrorCode => Object.hasOwn(domainErrorStatus, code);

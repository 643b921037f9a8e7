/**
 * A replay could not run for a reason the operator can fix (unknown schema, bad time, unknown
 * player): `message` says what is wrong and `hint` what to do next. The CLI prints both on one
 * line and exits 2; anything else is a bug or an outage.
 */
export class ReplayInputError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'ReplayInputError';
  }
}

export const isReplayInputError = (error: unknown): error is ReplayInputError => error instanceof ReplayInputError;

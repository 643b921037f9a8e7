/** A pool snapshot that breaks the input contract (duplicate entry ids, non-finite numbers…). */
export class PairingInputError extends Error {
  readonly code = 'PAIRING_INPUT_INVALID';
  override readonly name = 'PairingInputError';
}

/** A pool too large for the exact-integer weight encoding (see README, "Weight function"). */
export class PairingCapacityError extends Error {
  readonly code = 'PAIRING_POOL_TOO_LARGE';
  override readonly name = 'PairingCapacityError';
}

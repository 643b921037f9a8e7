/** Tuning of one pool's pairing. All fields are plain numbers so a config can come from env. */
export interface PairingConfig {
  /**
   * Half-width of a fresh entry's rating window (acceptable opponents: rating ± window).
   * @defaultValue 100
   */
  initialWindow: number;
  /**
   * Rating points added to the half-width after every full widening interval of waiting.
   * @defaultValue 25
   */
  wideningStep: number;
  /**
   * Seconds of waiting per widening step (a step function: floor(wait / interval)).
   * @defaultValue 10
   */
  wideningIntervalSeconds: number;
  /**
   * Largest half-width a window ever reaches.
   * @defaultValue 500
   */
  maxWindow: number;
  /**
   * Two users who played each other less than this many seconds ago are not paired again.
   * 0 disables the cool-down.
   * @defaultValue 0
   */
  rematchCooldownSeconds: number;
}

export const defaultPairingConfig: PairingConfig = Object.freeze({
  initialWindow: 100,
  wideningStep: 25,
  wideningIntervalSeconds: 10,
  maxWindow: 500,
  rematchCooldownSeconds: 0,
});

/**
 * Version stamped on every pair's explanation (`MatchCreated` carries it for auditors). `mwm-4`:
 * the candidate graph has 3 partners per entry instead of 6, so among matchings of equal weight
 * another one can be chosen; a pass recorded by an earlier version re-runs with its pair
 * differences as notes (see @mm/replay's rerunPass).
 */
export const ALGORITHM_VERSION = 'mwm-4';

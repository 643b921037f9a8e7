export { matchFlowContext, serviceMetadata, type WorkerContext } from './context.js';
export {
  createGameForMatch,
  type GameCreationAttempt,
  type GameCreationOutcome,
  GameCreationRetry,
} from './games/create-game.js';
// The deterministic ids and the match flows live in @mm/domain; the ids are re-exported for existing importers.
export { type DecidedSide, matchEventId, queueMatchId, timeoutEventId, uuidFrom } from './ids/deterministic-ids.js';
export * from './match/match-steps.js';
export { type ClaimInput, type ClaimResult, claimEntry } from './pairing/claim-entry.js';
export { type CommitOutcome, commitPair, releaseClaim } from './pairing/commit-pair.js';
export { buildQueueMatch, type PairDecisionInput } from './pairing/explanation.js';
export { type PairingPassContext, type PassResult, runPairingPass } from './pairing/pairing-pass.js';
export {
  appendPassRecord,
  buildPassRecord,
  fateOf,
  type PairFate,
  type PassRecordInput,
  pairingPassId,
} from './pairing/pass-record.js';
export { decidePass, type PassDecision, type PoolMode, poolModes } from './pairing/wave.js';
export { type ClaimRecovery, recoverClaim } from './recovery/recover-claim.js';
export { type SweepResult, sweepStuckMatches } from './recovery/sweep.js';
export { type StartWorkersOptions, startWorkers, type WorkerRole, type Workers } from './start-workers.js';

export { auditLog } from './audit-log.js';
export {
  type AuditEventStoreOptions,
  auditEventStore,
  type LogBound,
  type StreamedAuditResult,
} from './audit-store.js';
export {
  type FetchLiveGamesOptions,
  fetchLiveGames,
  formatGameReconciliation,
  type GameFinding,
  type GameFindingCode,
  type GameReconciliation,
  type GameReconciliationOptions,
  type LiveGameRecord,
  reconcileGames,
  reconcileWithLiveGameApi,
} from './game-reconciliation.js';
export { AUDIT_HEAP_MB, type CappedRun, heapCapOfThisProcess, runUnderHeapCap } from './heap-cap.js';
export { type CompatiblePair, compatibleSearchingPairs } from './liveness.js';
export { allowedHalfWidth } from './match-checks.js';
export { readWholeLog } from './read-log.js';
export { formatReport } from './report.js';
export { type AuditFootprint, type StreamingAuditOptions, StreamingAuditor } from './streaming-audit.js';
export type * from './types.js';

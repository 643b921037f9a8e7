export { auditLog } from './audit-log.js';
export { type CompatiblePair, compatibleSearchingPairs } from './liveness.js';
export { allowedHalfWidth } from './match-checks.js';
export { readWholeLog } from './read-log.js';
export { formatReport } from './report.js';
export type * from './types.js';

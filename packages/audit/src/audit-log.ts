import type { RecordedEvent } from '@mm/event-store';
import { StreamingAuditor } from './streaming-audit.js';
import type { AuditOptions, AuditResult } from './types.js';

/**
 * Replays a whole event log (in position order) and re-checks invariants I1–I5 from it
 * alone — no read model, no worker state. Pure: same log, same result. The log is folded by
 * {@link StreamingAuditor} (which a big log should be fed page by page instead, see
 * `auditEventStore`).
 */
export function auditLog(events: readonly RecordedEvent[], options: AuditOptions = {}): AuditResult {
  const auditor = new StreamingAuditor(options);
  auditor.pushAll(events);
  const { suppressed: _, ...result } = auditor.finish();
  return result;
}

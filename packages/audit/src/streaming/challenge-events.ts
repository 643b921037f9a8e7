import type { RecordedEvent } from '@mm/event-store';
import { key } from '../state.js';
import type { AuditFold, Raw } from './audit-fold.js';

/** Challenge streams: which challenges are pending (for the challenge matches they lead to). */
export function applyChallengeEvent(a: AuditFold, event: RecordedEvent, d: Raw, tenantId: string): void {
  switch (event.type) {
    case 'ChallengeIssued': {
      a.challenges.set(key(tenantId, d.challengeId), {
        challengerId: d.challengerId,
        opponentId: d.opponentId,
        poolKey: `${d.timeControl}:${d.mode}`,
      });
      break;
    }
    case 'ChallengeDeclined':
    case 'ChallengeCancelled':
    case 'ChallengeExpired':
      a.challenges.delete(key(tenantId, d.challengeId));
      break;

    default:
      break;
  }
}

import type { EventMetadata } from '@mm/event-store';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Principal } from '../auth/authenticator.js';
import { principalOf } from '../middleware/auth.js';

/** Who runs a use case, and what its events and logs are stamped with. */
export interface Caller {
  principal: Principal;
  /** The request id: correlation id of every event the use case appends. */
  requestId: string;
  log: Pick<Logger, 'warn' | 'info'>;
}

/** The caller of an authenticated request. */
export const callerOf = (req: Request, res: Response): Caller => ({
  principal: principalOf(res),
  requestId: String(req.id),
  log: req.log,
});

/** Metadata of every event a user's command appends. */
export const commandMetadata = (caller: Caller): EventMetadata => ({
  tenantId: caller.principal.tenantId,
  correlationId: caller.requestId,
  causationId: null,
  actor: { type: 'user', id: caller.principal.userId },
});

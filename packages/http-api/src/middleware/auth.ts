import type { NextFunction, Request, Response } from 'express';
import { type Authenticator, hasAnyRole, type Principal } from '../auth/authenticator.js';
import { problems } from '../errors/problem.js';

export const requireAuth =
  (authenticate: Authenticator) =>
  async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // Express 5 passes a rejected promise (a 401 or 503 problem) on to the error handler.
    res.locals.principal = await authenticate(req.header('authorization'));
    next();
  };

export const requireRole =
  (roles: readonly string[]) =>
  (_req: Request, res: Response, next: NextFunction): void => {
    if (!hasAnyRole(res.locals.principal as Principal, roles)) {
      throw problems.forbidden(`This route needs one of the roles: ${roles.join(', ')}.`);
    }
    next();
  };

export const principalOf = (res: Response): Principal => res.locals.principal as Principal;

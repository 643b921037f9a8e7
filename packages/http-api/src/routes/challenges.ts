import { CreateChallengeRequest, DeclineChallengeRequest } from '@mm/contracts';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { type Application, callerOf } from '../application/index.js';
import type { ApiDependencies } from '../dependencies.js';
import { domainProblem } from '../errors/domain-problems.js';
import { parseOr400 } from '../middleware/validate.js';

const CHALLENGE_ID = /^[\w-]{1,100}$/;

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
});

/** Direct challenges over HTTP (use cases in `application/challenge-service.ts`). */
export function challengeRoutes(deps: ApiDependencies, app: Application): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());

  const idParam = (req: Request): string => {
    const id = String(req.params.challengeId);
    if (!CHALLENGE_ID.test(id))
      throw domainProblem({ code: 'CHALLENGE_NOT_FOUND', message: `challenge ${id} not found` });
    return id;
  };

  router.post('/challenges', async (req: Request, res: Response) => {
    const body = parseOr400(CreateChallengeRequest, req.body ?? {});
    const challenge = await app.challenges.issue(callerOf(req, res), body, clock());
    res.status(201).location(`${req.baseUrl}/challenges/${challenge.challenge_id}`).json(challenge);
  });

  const list = (side: 'incoming' | 'outgoing') => async (req: Request, res: Response) => {
    const query = parseOr400(ListQuery, req.query);
    res.json(await app.challenges.list(callerOf(req, res), side, query, clock()));
  };
  router.get('/challenges/incoming', list('incoming'));
  router.get('/challenges/outgoing', list('outgoing'));

  router.get('/challenges/:challengeId', async (req: Request, res: Response) => {
    res.json(await app.challenges.get(callerOf(req, res), idParam(req), clock()));
  });

  router.post('/challenges/:challengeId/accept', async (req: Request, res: Response) => {
    res.json(await app.challenges.accept(callerOf(req, res), idParam(req), clock()));
  });

  router.post('/challenges/:challengeId/decline', async (req: Request, res: Response) => {
    const challengeId = idParam(req);
    const body = parseOr400(DeclineChallengeRequest, req.body ?? {});
    res.json(await app.challenges.decline(callerOf(req, res), challengeId, body.reason ?? 'generic', clock()));
  });

  router.post('/challenges/:challengeId/cancel', async (req: Request, res: Response) => {
    const challengeId = idParam(req);
    parseOr400(z.strictObject({}), req.body ?? {});
    res.json(await app.challenges.cancel(callerOf(req, res), challengeId, clock()));
  });

  return router;
}

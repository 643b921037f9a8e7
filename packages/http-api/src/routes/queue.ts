import { pairingSettings } from '@mm/config';
import { type ActiveMatchmakingResponse, JoinQueueRequest } from '@mm/contracts';
import { type Request, type Response, Router } from 'express';
import { type Application, callerOf, type Live } from '../application/index.js';
import type { ApiDependencies } from '../dependencies.js';
import { ProblemError } from '../errors/problem.js';
import { parseOr400 } from '../middleware/validate.js';
import { queueEntryBody } from './queue-entry-view.js';

const ENTRY_ID = /^[\w-]{1,100}$/;
/** Set on a queue-entry answer whose live figures (position, estimated wait) could not be read: they are null. */
export const LIVE_FIGURES_HEADER = 'Matchmaking-Live-Figures';

const notFound = () => new ProblemError(404, 'QUEUE_ENTRY_NOT_FOUND', 'No such queue entry');

/** The player's queue over HTTP: join, cancel, status, active (use cases in `application/queue-service.ts`). */
export function queueRoutes(deps: ApiDependencies, app: Application): Router {
  const router = Router();
  const clock = deps.clock ?? (() => new Date());
  // Each pool's window comes from its pairing policy (PAIRING_POLICIES).
  const pairing = (entry: { poolKey: string }) => pairingSettings(deps.config, entry.poolKey);

  const entryIdParam = (req: Request): string => {
    const id = String(req.params.queueEntryId);
    if (!ENTRY_ID.test(id)) throw notFound();
    return id;
  };
  const markLive = (res: Response, live: Live | undefined) => {
    if (live?.unavailable) res.setHeader(LIVE_FIGURES_HEADER, 'unavailable');
  };

  router.post('/queue', async (req: Request, res: Response) => {
    const body = parseOr400(JoinQueueRequest, req.body ?? {});
    const now = clock();
    const { entry, live } = await app.queue.join(callerOf(req, res), body, now);
    markLive(res, live);
    res
      .status(201)
      .location(`${req.baseUrl}/queue/${entry.queueEntryId}`)
      .json(queueEntryBody(entry, now, pairing(entry), live.figures));
  });

  router.delete('/queue/:queueEntryId', async (req: Request, res: Response) => {
    const now = clock();
    const entry = await app.queue.cancel(callerOf(req, res), entryIdParam(req), now);
    res.json(queueEntryBody(entry, now, pairing(entry)));
  });

  router.get('/queue/:queueEntryId', async (req: Request, res: Response) => {
    const now = clock();
    const found = await app.queue.entry(callerOf(req, res), entryIdParam(req), now);
    // An entry that ended long ago may have left the read models (READ_MODEL_RETENTION_DAYS; the
    // player's stream in the log still answers) and then the log itself (archived): say so.
    if (!found) {
      const days = deps.config.READ_MODEL_RETENTION_DAYS;
      throw new ProblemError(
        404,
        'QUEUE_ENTRY_NOT_FOUND',
        'No such queue entry',
        `queue entry ${String(req.params.queueEntryId)} is not yours or does not exist, or it ended${days > 0 ? ` more than ${days} days ago (read-model retention)` : ''} and its events have been archived since: operators read the archive (pnpm mm history player <tenant> <user>)`,
      );
    }
    markLive(res, found.live);
    res.json(queueEntryBody(found.entry, now, pairing(found.entry), found.live.figures));
  });

  router.get('/active', async (req: Request, res: Response) => {
    const now = clock();
    const { entry, match } = await app.queue.active(callerOf(req, res), now);
    markLive(res, entry?.live);
    const body: ActiveMatchmakingResponse = {
      queue_entry: entry ? queueEntryBody(entry.entry, now, pairing(entry.entry), entry.live.figures) : null,
      match,
    };
    res.json(body);
  });

  return router;
}

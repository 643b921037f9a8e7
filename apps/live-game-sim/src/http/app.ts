import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { FaultPlan } from '../faults/fault-plan.js';
import type { GameRegistry } from '../games/game-registry.js';
import { gameView } from './game-views.js';

const CreateGameBody = z.object({
  tenant_id: z.string().min(1),
  white_user_id: z.string().min(1),
  black_user_id: z.string().min(1),
  time_control: z.string().regex(/^\d{1,3}\+\d{1,3}$/),
  mode: z.enum(['rated', 'casual']),
  white_rating: z.number().nullable(),
  black_rating: z.number().nullable(),
  metadata: z.looseObject({ match_id: z.string().min(1), source: z.string().min(1) }),
});

export interface SimAppOptions {
  registry: GameRegistry;
  faults: FaultPlan;
  logger: Logger;
  /** How long a "timeout" fault hangs before answering 504. */
  timeoutMs: number;
  /** Bearer token required on /internal, when set. */
  token?: string | undefined;
}

export interface SimApp {
  app: express.Express;
  /** Ends hanging "timeout" calls (so a server can close promptly). */
  releaseHanging(): void;
}

/** The live-game-api contract the matchmaking service calls, plus test/ops routes, over an in-memory registry. */
export function createSimApp(options: SimAppOptions): SimApp {
  const { registry, faults, logger } = options;
  const hanging = new Set<() => void>();
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', (_req, res) => {
    res.json({ status: 'ready', simulator: true });
  });

  const internal = express.Router();
  internal.use((req: Request, res: Response, next: NextFunction) => {
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      res.status(401).json({ detail: 'missing or wrong bearer token' });
      return;
    }
    const latency = faults.nextLatencyMs();
    if (latency > 0) setTimeout(next, latency);
    else next();
  });

  internal.post('/games', async (req, res) => {
    const key = req.header('idempotency-key');
    if (!key) {
      res.status(400).json({ detail: 'Idempotency-Key header is required' });
      return;
    }
    const body = CreateGameBody.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ detail: 'invalid body', issues: body.error.issues });
      return;
    }
    const fault = faults.nextCreateFault();
    const log = logger.child({ idempotencyKey: key, fault });
    switch (fault) {
      case 'reject':
        log.info('create refused (injected 422)');
        res.status(422).json({ detail: 'game refused (injected fault)', code: 'SIM_REJECTED' });
        return;
      case 'error':
        log.info('create failed (injected 503)');
        res.status(503).json({ detail: 'temporarily unavailable (injected fault)' });
        return;
      case 'timeout': {
        log.info('create hangs (injected timeout)');
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            hanging.delete(done);
            resolve();
          };
          const timer = setTimeout(done, options.timeoutMs);
          hanging.add(done);
          res.once('close', done);
        });
        if (!res.headersSent && !res.destroyed) res.status(504).json({ detail: 'timed out (injected fault)' });
        return;
      }
      default:
        break;
    }
    const outcome = registry.create(body.data, key);
    switch (outcome.kind) {
      case 'created':
        if (fault === 'duplicate') {
          // The game exists now, but the caller never learns it: its retry must get the same game.
          log.info({ gameId: outcome.game.gameId }, 'game created, reply lost (injected 500)');
          res.status(500).json({ detail: 'internal error after creating the game (injected fault)' });
          return;
        }
        log.debug({ gameId: outcome.game.gameId }, 'game created');
        res.status(201).json({ game_id: outcome.game.gameId });
        return;
      case 'replayed':
        // The contract: 409 with the game id = already created for this key.
        log.debug({ gameId: outcome.game.gameId }, 'create replayed for a known key');
        res.status(409).json({ game_id: outcome.game.gameId, detail: 'already created for this Idempotency-Key' });
        return;
      case 'key_mismatch':
        res.status(422).json({ detail: 'Idempotency-Key reused for a different game', code: 'IDEMPOTENCY_KEY_REUSED' });
        return;
      case 'player_busy':
        res.status(409).json({
          detail: `player ${outcome.userId} already has an active game`,
          code: 'PLAYER_IN_GAME',
          user_id: outcome.userId,
          active_game_id: outcome.gameId,
        });
        return;
    }
  });

  internal.get('/games', (req, res) => {
    const tenantId = typeof req.query.tenant_id === 'string' ? req.query.tenant_id : undefined;
    const status = req.query.status === 'active' || req.query.status === 'finished' ? req.query.status : undefined;
    const games = registry.list({ ...(tenantId ? { tenantId } : {}), ...(status ? { status } : {}) });
    res.json({ count: games.length, games: games.map(gameView) });
  });

  internal.get('/games/:gameId', (req, res) => {
    const game = registry.get(req.params.gameId);
    if (!game) res.status(404).json({ detail: 'no such game' });
    else res.json(gameView(game));
  });

  internal.post('/games/:gameId/finish', (req, res) => {
    const result = typeof req.body?.result === 'string' ? req.body.result : null;
    const game = registry.finish(req.params.gameId, result);
    if (!game) res.status(404).json({ detail: 'no such game' });
    else res.json(gameView(game));
  });

  internal.get('/players/:userId/active-game', (req, res) => {
    const tenantId = req.query.tenant_id;
    if (typeof tenantId !== 'string' || !tenantId) {
      res.status(400).json({ detail: 'tenant_id query parameter is required' });
      return;
    }
    const game = registry.activeGameOf(tenantId, req.params.userId);
    if (!game) res.status(404).json({ detail: 'no active game' });
    else res.json({ game_id: game.gameId });
  });

  internal.get('/sim/stats', (_req, res) => {
    res.json({
      games: registry.size,
      active_games: registry.list({ status: 'active' }).length,
      create_calls_by_fault: faults.counts(),
    });
  });

  app.use('/internal', internal);
  app.use((_req, res) => {
    res.status(404).json({ detail: 'not found' });
  });
  // Express 5 passes malformed JSON etc. here.
  app.use((error: { status?: number; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status && error.status < 500 ? error.status : 500).json({ detail: error.message ?? 'error' });
  });

  return {
    app,
    releaseHanging() {
      for (const done of [...hanging]) done();
    },
  };
}

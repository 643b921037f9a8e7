import { CreateGameRequest } from '@mm/integrations';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { FaultPlan } from '../faults/fault-plan.js';
import { type CreateOutcome, type Game, type GameRegistry, matchIdOf } from '../games/game-registry.js';
import { gameView } from './game-views.js';

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

/** The answer to a create call that reached the registry. */
function answerCreate(res: Response, outcome: CreateOutcome, log: Logger): void {
  switch (outcome.kind) {
    case 'created':
      log.debug({ gameId: outcome.game.gameId }, 'game created');
      res.status(201).json({ game_id: outcome.game.gameId, status: outcome.game.status });
      return;
    case 'replayed':
      // The same game again (whatever its status now), as the first answer would have said.
      log.debug({ gameId: outcome.game.gameId }, 'create replayed for a known key');
      res.status(200).json({ game_id: outcome.game.gameId, status: outcome.game.status, replayed: true });
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
    const body = CreateGameRequest.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ detail: 'invalid body', issues: body.error.issues });
      return;
    }
    // A retry of a key that already made a game is answered from the stored game, like a real
    // idempotent service: no fault is drawn for it (the game exists; only its reply was lost).
    if (registry.byKey(body.data.tenant_id, key)) {
      answerCreate(res, registry.create(body.data, key), logger.child({ idempotencyKey: key }));
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
        // The game is committed, then the reply hangs past the caller's timeout: the caller
        // cannot know the outcome (a retry with the key, or a lookup by key, finds the game).
        const outcome = registry.create(body.data, key);
        log.info({ outcome: outcome.kind }, 'create hangs after committing (injected timeout)');
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
    if (fault === 'duplicate' && outcome.kind === 'created') {
      // The game exists now, but the caller never learns it: its retry must get the same game.
      log.info({ gameId: outcome.game.gameId }, 'game created, reply lost (injected 500)');
      res.status(500).json({ detail: 'internal error after creating the game (injected fault)' });
      return;
    }
    answerCreate(res, outcome, log);
  });

  // The game a create call with this Idempotency-Key made (what a caller that lost the reply
  // asks before giving up on the game), whatever its status.
  internal.get('/games/by-key/:key', (req, res) => {
    const tenantId = req.query.tenant_id;
    if (typeof tenantId !== 'string' || !tenantId) {
      res.status(400).json({ detail: 'tenant_id query parameter is required' });
      return;
    }
    const game = registry.byKey(tenantId, req.params.key);
    if (!game) res.status(404).json({ detail: 'no game for this Idempotency-Key' });
    else res.json(gameView(game));
  });

  internal.get('/games', (req, res) => {
    const text = (name: string) =>
      typeof req.query[name] === 'string' && req.query[name] ? req.query[name] : undefined;
    const tenantId = text('tenant_id');
    const matchId = text('match_id');
    const status = ['active', 'finished', 'cancelled'].find((s) => s === req.query.status) as
      | Game['status']
      | undefined;
    const offset = Math.max(0, Number.parseInt(text('offset') ?? '0', 10) || 0);
    const limit = text('limit') ? Math.max(1, Number.parseInt(text('limit')!, 10) || 1) : Number.POSITIVE_INFINITY;
    const all = registry.list({
      ...(tenantId ? { tenantId } : {}),
      ...(status ? { status } : {}),
      ...(matchId ? { matchId } : {}),
    });
    const page = all.slice(offset, offset + limit);
    const next = offset + page.length;
    res.json({
      count: page.length,
      total: all.length,
      games: page.map(gameView),
      next_offset: next < all.length ? next : null,
    });
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

  // Calls a game off: idempotent; afterwards neither player is in an active game.
  internal.post('/games/:gameId/cancel', (req, res) => {
    const reason = typeof req.body?.reason === 'string' ? req.body.reason.slice(0, 200) : null;
    const outcome = registry.cancel(req.params.gameId, reason);
    switch (outcome.kind) {
      case 'not_found':
        res.status(404).json({ detail: 'no such game' });
        return;
      case 'finished':
        res.status(409).json({ ...gameView(outcome.game), code: 'GAME_FINISHED', detail: 'the game was played' });
        return;
      default:
        logger.info({ gameId: outcome.game.gameId, reason, outcome: outcome.kind }, 'game cancelled');
        res.json(gameView(outcome.game));
    }
  });

  internal.get('/players/:userId/active-game', (req, res) => {
    const tenantId = req.query.tenant_id;
    if (typeof tenantId !== 'string' || !tenantId) {
      res.status(400).json({ detail: 'tenant_id query parameter is required' });
      return;
    }
    const game = registry.activeGameOf(tenantId, req.params.userId);
    if (!game) res.status(404).json({ detail: 'no active game' });
    else res.json({ game_id: game.gameId, match_id: matchIdOf(game) });
  });

  internal.get('/sim/stats', (_req, res) => {
    res.json({
      games: registry.size,
      active_games: registry.list({ status: 'active' }).length,
      cancelled_games: registry.list({ status: 'cancelled' }).length,
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

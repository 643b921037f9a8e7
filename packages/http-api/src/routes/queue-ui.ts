import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Request, type Response, Router } from 'express';
import { type Authenticator, hasAnyRole } from '../auth/authenticator.js';
import { problems } from '../errors/problem.js';

/** Where Bull Board is mounted. */
export const QUEUE_UI_PATH = '/internal/queues/ui';
/** The cookie a browser session carries its token in (set by the login form; only sent under {@link QUEUE_UI_PATH}). */
export const QUEUE_UI_COOKIE = 'mm_queue_ui';

export interface QueueUiQueue {
  queue: Queue;
  /** Jobs are listed but no action is offered (queues the service manages by itself: pairing signals, the tick). */
  readOnly?: boolean;
}

export interface QueueUiOptions {
  queues: readonly QueueUiQueue[];
  authenticate: Authenticator;
  /** Roles allowed in (ADMIN_ROLES). */
  roles: readonly string[];
}

const cookieOf = (req: Request, name: string): string | undefined => {
  for (const part of (req.header('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
};

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const loginPage = (message?: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>matchmaking queues — sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}textarea{width:100%;height:8rem;font-family:monospace}p.error{color:#b00020}</style>
</head><body>
<h1>matchmaking queues</h1>
<p>Paste a JWT with one of the admin roles (e.g. <code>pnpm --silent jwt tenant-1 ops --admin</code>).
It is kept in an HTTP-only cookie for this browser session, sent only to ${QUEUE_UI_PATH}.</p>
${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${QUEUE_UI_PATH}/login">
<textarea name="token" required autofocus></textarea>
<p><button type="submit">Open the queue UI</button></p>
</form>
</body></html>`;

/**
 * Bull Board over our BullMQ queues at {@link QUEUE_UI_PATH}, for a role of `roles` only. A
 * client sends its token as `Authorization: Bearer …` like everywhere else; a browser, which
 * cannot, signs in once with the token on `/login` and then carries it in an HTTP-only,
 * SameSite=Strict cookie scoped to this path (every request checks it again: expiry, role).
 * Without credentials a browser is sent to the login form; other clients get 401.
 */
export function queueUiRoutes(options: QueueUiOptions): Router {
  const router = Router();
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_UI_PATH);
  createBullBoard({
    queues: options.queues.map(({ queue, readOnly }) => new BullMQAdapter(queue, { readOnlyMode: readOnly ?? false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'matchmaking queues' } },
  });

  const admit = async (authorization: string | undefined) => {
    const principal = await options.authenticate(authorization);
    if (!hasAnyRole(principal, options.roles))
      throw problems.forbidden(`The queue UI needs one of the roles: ${options.roles.join(', ')}.`);
    return principal;
  };
  const cookie = (req: Request, value: string, maxAge?: number) =>
    [
      `${QUEUE_UI_COOKIE}=${encodeURIComponent(value)}`,
      `Path=${QUEUE_UI_PATH}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(req.secure ? ['Secure'] : []),
      ...(maxAge !== undefined ? [`Max-Age=${maxAge}`] : []),
    ].join('; ');

  router.get('/login', (_req, res) => {
    res.type('html').send(loginPage());
  });
  router.post('/login', express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    try {
      await admit(`Bearer ${token}`);
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      if (status !== 401 && status !== 403) throw error;
      res
        .status(status)
        .type('html')
        .send(loginPage(status === 403 ? 'This token has none of the admin roles.' : 'This token is not valid.'));
      return;
    }
    res.setHeader('Set-Cookie', cookie(req, token));
    res.redirect(303, `${QUEUE_UI_PATH}/`);
  });
  router.post('/logout', (req, res) => {
    res.setHeader('Set-Cookie', cookie(req, '', 0));
    res.redirect(303, `${QUEUE_UI_PATH}/login`);
  });

  router.use(async (req, res, next) => {
    const fromCookie = cookieOf(req, QUEUE_UI_COOKIE);
    const authorization = req.header('authorization') ?? (fromCookie ? `Bearer ${fromCookie}` : undefined);
    // A browser without a (still valid) token is sent to the login form; other clients get the problem.
    const browser = req.method === 'GET' && req.accepts(['json', 'html']) === 'html';
    try {
      res.locals.principal = await admit(authorization);
    } catch (error) {
      if (browser && (error as { status?: number }).status === 401) {
        res.redirect(303, `${QUEUE_UI_PATH}/login`);
        return;
      }
      throw error;
    }
    next();
  });
  router.use(serverAdapter.getRouter());
  return router;
}

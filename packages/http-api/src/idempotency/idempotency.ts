import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import type { Principal } from '../auth/authenticator.js';
import { ProblemError } from '../errors/problem.js';

export interface IdempotencyOptions {
  pool: pg.Pool;
  /** PostgreSQL schema holding `idempotency_keys`. @defaultValue 'public' */
  schema?: string;
  /** How long a response is replayed. @defaultValue 86400 (24 h) */
  ttlSeconds?: number;
  /**
   * A request that started this long ago and never stored its response (its process
   * died) no longer blocks retries of the same key. @defaultValue 60000
   */
  staleAfterMs?: number;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/**
 * `Idempotency-Key` for commands: the first request with a key runs and its response
 * (any status below 500) is stored before it is sent; a retry with the same key and
 * the same request gets that response again (header `Idempotent-Replayed: true`) and
 * runs nothing, so it appends nothing. Keys are scoped to tenant + user. A retry while
 * the first is still running gets 409 `IDEMPOTENCY_IN_PROGRESS`; the same key with a
 * different request gets 422 `IDEMPOTENCY_KEY_REUSED`. 5xx responses are not stored, so
 * the client may retry them.
 */
export function idempotency(options: IdempotencyOptions) {
  const table = `"${options.schema ?? 'public'}".idempotency_keys`;
  const ttlSeconds = options.ttlSeconds ?? 86_400;
  const staleSeconds = (options.staleAfterMs ?? 60_000) / 1000;

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = req.header('idempotency-key');
    if (key === undefined || !['POST', 'DELETE', 'PUT', 'PATCH'].includes(req.method)) return next();
    if (!KEY.test(key)) {
      throw new ProblemError(
        400,
        'INVALID_IDEMPOTENCY_KEY',
        'Invalid Idempotency-Key',
        'Use 1–255 visible ASCII characters.',
      );
    }
    const principal = res.locals.principal as Principal;
    const hash = createHash('sha256')
      .update(`${req.method} ${req.originalUrl.split('?')[0]} ${canonical(req.body ?? null)}`)
      .digest('hex');
    const ids = [principal.tenantId, principal.userId, key];

    const claimed = await options.pool.query(
      `INSERT INTO ${table} (tenant_id, user_id, key, request_hash, state, expires_at)
       VALUES ($1, $2, $3, $4, 'in_progress', now() + make_interval(secs => $5))
       ON CONFLICT (tenant_id, user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
             response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE ${table}.expires_at < now()
            OR (${table}.state = 'in_progress' AND ${table}.created_at < now() - make_interval(secs => $6))
       RETURNING 1`,
      [...ids, hash, ttlSeconds, staleSeconds],
    );
    if (claimed.rowCount === 0) {
      const { rows } = await options.pool.query<{
        request_hash: string;
        state: string;
        response_status: number | null;
        response_body: unknown;
      }>(
        `SELECT request_hash, state, response_status, response_body FROM ${table}
         WHERE tenant_id = $1 AND user_id = $2 AND key = $3`,
        ids,
      );
      const row = rows[0];
      if (row && row.request_hash !== hash) {
        throw new ProblemError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          'Idempotency-Key already used for another request',
          'Use a new key for a different request.',
        );
      }
      if (row?.state === 'done' && row.response_status !== null) {
        res.setHeader('Idempotent-Replayed', 'true');
        if (row.response_status >= 400) res.type('application/problem+json');
        res.status(row.response_status).json(row.response_body);
        return;
      }
      // Still running (or it finished between our two statements and we lost the race: retrying is safe).
      throw new ProblemError(
        409,
        'IDEMPOTENCY_IN_PROGRESS',
        'A request with this Idempotency-Key is still running',
        'Retry shortly.',
      );
    }

    const send = res.json.bind(res);
    let stored = false;
    res.json = ((body: unknown) => {
      if (stored) return send(body);
      stored = true;
      const status = res.statusCode;
      const save =
        status < 500
          ? options.pool.query(
              `UPDATE ${table} SET state = 'done', response_status = $4, response_body = $5
               WHERE tenant_id = $1 AND user_id = $2 AND key = $3`,
              [...ids, status, JSON.stringify(body ?? null)],
            )
          : options.pool.query(`DELETE FROM ${table} WHERE tenant_id = $1 AND user_id = $2 AND key = $3`, ids);
      save.then(
        () => send(body),
        (error: unknown) => {
          req.log?.error({ err: error }, 'could not store the idempotent response');
          send(body);
        },
      );
      return res;
    }) as Response['json'];
    next();
  };
}

/** Deletes expired keys now and then (keys live at least `ttlSeconds`). Returns a stop function. */
export function startIdempotencyJanitor(pool: pg.Pool, schema = 'public', everyMs = 10 * 60_000): () => void {
  const timer = setInterval(() => {
    pool.query(`DELETE FROM "${schema}".idempotency_keys WHERE expires_at < now()`).catch(() => {});
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

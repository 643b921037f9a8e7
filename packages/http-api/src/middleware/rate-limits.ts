import { isCluster, type RedisClient, redisKeys } from '@mm/redis';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type IncrementResponse, type RateLimitInfo, rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { type RedisReply, RedisStore, type SendCommandClusterDetails } from 'rate-limit-redis';
import { hasAnyRole } from '../auth/authenticator.js';
import { ProblemError } from '../errors/problem.js';
import { principalOf } from './auth.js';

export interface CommandRateLimitOptions {
  /** Where the counters live: every API instance of the deployment shares them. */
  redis: RedisClient;
  redisPrefix: string;
  windowSeconds: number;
  /** Commands per window for one user (tenant + user); 0 = no per-user limit. */
  perUser: number;
  /** Commands per window for all the users of one tenant together; 0 = no per-tenant limit. */
  perTenant: number;
  /** Tokens with one of these roles are never limited (service tokens). */
  exemptRoles: readonly string[];
  logger: Pick<Logger, 'warn'>;
}

/** The methods that change state: every one of them under /v1/matchmaking is a command. */
const COMMAND_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * rate-limit-redis loads its Lua script once and keeps the promise of its SHA: a load made
 * while Redis was away (the API's client has no offline queue) would stay rejected, and every
 * request would then pass unlimited for the life of the process. This store loads it again
 * after a failed increment, so the limits come back with Redis.
 */
class ReloadingRedisStore extends RedisStore {
  override async increment(key: string): Promise<IncrementResponse> {
    try {
      return await super.increment(key);
    } catch (error) {
      this.incrementScriptSha = this.loadIncrementScript(key);
      this.incrementScriptSha.catch(() => undefined); // seen by the next increment
      throw error;
    }
  }
}

type Scope = 'user' | 'tenant';

/**
 * How the store talks to Redis. On a cluster a command with a key goes to its slot's node, and
 * the script is loaded on every primary (SCRIPT LOAD has no key: loaded on one node only, the
 * EVALSHA of a key served by another would find no script).
 */
const storeCommands = (redis: RedisClient) => {
  if (!isCluster(redis))
    return {
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    };
  return {
    sendCommandCluster: async ({ command }: SendCommandClusterDetails): Promise<RedisReply> => {
      const [name, ...args] = command;
      if (name!.toUpperCase() !== 'SCRIPT') return redis.call(name!, ...args) as Promise<RedisReply>;
      const masters = redis.nodes('master');
      // Not connected yet: fails like a load while Redis is away (loaded again after a failed increment).
      if (masters.length === 0) throw new Error('Redis Cluster not connected: script not loaded');
      const replies = await Promise.all(masters.map((node) => node.call(name!, ...args)));
      return replies[0] as RedisReply;
    },
  };
};

/** Sets the standard headers of a refusal from the limiter that refused (the tenant's may be the binding one). */
const refusalHeaders = (res: Response, info: RateLimitInfo, windowSeconds: number): number => {
  const retryAfter = Math.max(1, Math.ceil(((info.resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
  res.setHeader('RateLimit-Policy', `${info.limit};w=${windowSeconds}`);
  res.setHeader('RateLimit-Limit', String(info.limit));
  res.setHeader('RateLimit-Remaining', '0');
  res.setHeader('RateLimit-Reset', String(retryAfter));
  res.setHeader('Retry-After', String(retryAfter));
  return retryAfter;
};

/**
 * Per-user and per-tenant limits on commands, counted in Redis (fixed windows) so that every
 * API instance shares them. A refused command gets 429 `RATE_LIMITED` before its handler runs,
 * so it appends nothing. Successful commands carry `RateLimit-*` headers of the user's limit.
 * While Redis is away the limits are not enforced (logged): commands go on, as they do
 * without the queue views.
 */
export function commandRateLimits(options: CommandRateLimitOptions): RequestHandler[] {
  const keys = redisKeys(options.redisPrefix);
  const windowMs = options.windowSeconds * 1000;
  const skip = (req: Request, res: Response) =>
    !COMMAND_METHODS.has(req.method) || hasAnyRole(principalOf(res), options.exemptRoles);
  const logger = {
    error: (err: unknown, message?: string) => options.logger.warn({ err }, message ?? 'rate limit store failed'),
    warn: (err: unknown, message?: string) => options.logger.warn({ err }, message ?? 'rate limit warning'),
  };

  const limiter = (scope: Scope, limit: number, key: (res: Response) => string, headers: boolean) => {
    const property = scope === 'user' ? 'userRateLimit' : 'tenantRateLimit';
    return rateLimit({
      windowMs,
      limit,
      // draft-6: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy (+ Retry-After on 429).
      standardHeaders: headers ? 'draft-6' : false,
      legacyHeaders: false,
      requestPropertyName: property,
      store: new ReloadingRedisStore({ prefix: '', ...storeCommands(options.redis) }),
      keyGenerator: (_req, res) => key(res),
      skip,
      passOnStoreError: true,
      logger,
      // The key is the token's tenant and user, never the client's address.
      validate: { ip: false, trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
      handler: (req: Request, res: Response, next: NextFunction) => {
        const info = (req as unknown as Record<string, RateLimitInfo>)[property]!;
        const retryAfter = refusalHeaders(res, info, options.windowSeconds);
        const who = scope === 'user' ? 'per user' : "for all of a tenant's users together";
        next(
          new ProblemError(
            429,
            'RATE_LIMITED',
            'Too many commands',
            `At most ${info.limit} commands per ${options.windowSeconds} s ${who}; retry in ${retryAfter} s. Nothing was changed.`,
            { limit_scope: scope, retry_after_seconds: retryAfter },
          ),
        );
      },
    });
  };

  const handlers: RequestHandler[] = [];
  // The user's limit first: a user refused there does not use up the tenant's budget.
  if (options.perUser > 0) {
    handlers.push(
      limiter(
        'user',
        options.perUser,
        (res) => keys.rateLimitUser(principalOf(res).tenantId, principalOf(res).userId),
        true,
      ),
    );
  }
  if (options.perTenant > 0) {
    handlers.push(
      limiter(
        'tenant',
        options.perTenant,
        (res) => keys.rateLimitTenant(principalOf(res).tenantId),
        options.perUser === 0,
      ),
    );
  }
  return handlers;
}

import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ProblemError, problems } from '../errors/problem.js';

/** Who is calling: every query and command is scoped to `tenantId`. */
export interface Principal {
  tenantId: string;
  userId: string;
  roles: string[];
}

export interface AuthenticatorOptions {
  /** HS256 secret; enables HS256. */
  secret?: string;
  /** RS256 public key (PEM); enables RS256. */
  publicKey?: string;
  issuer?: string;
  audience?: string;
  /** @defaultValue 5 */
  clockToleranceSeconds?: number;
}

export type Authenticator = (authorizationHeader: string | undefined) => Principal;

const ID = /^[\w.:@|+-]{1,128}$/;

/**
 * Verifies a bearer JWT. The key is chosen by the algorithm the *server* enabled for it
 * (HS256 → the secret, RS256 → the public key), and each verification only accepts that
 * one algorithm: `alg: none` and algorithm confusion (an HS256 token signed with the
 * public key as secret) are rejected.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  // Keys are parsed once: given a string, jsonwebtoken would parse it on every request.
  const keys = new Map<jwt.Algorithm, KeyObject>();
  if (options.secret) keys.set('HS256', createSecretKey(Buffer.from(options.secret, 'utf8')));
  if (options.publicKey) keys.set('RS256', createPublicKey(options.publicKey.replaceAll('\\n', '\n')));
  if (keys.size === 0) throw new Error('JWT_SECRET or JWT_PUBLIC_KEY must be set: no token could ever be verified');

  return (header) => {
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    if (!match) throw problems.unauthorized('MISSING_TOKEN', 'Send "Authorization: Bearer <JWT>".');
    const token = match[1]!;
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded === 'string')
      throw problems.unauthorized('INVALID_TOKEN', 'The token is not a JWT.');
    const algorithm = decoded.header.alg as jwt.Algorithm;
    const key = keys.get(algorithm);
    if (!key) {
      throw problems.unauthorized('INVALID_TOKEN', `Tokens signed with "${String(algorithm)}" are not accepted.`);
    }
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, key, {
        algorithms: [algorithm],
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
        clockTolerance: options.clockToleranceSeconds ?? 5,
      }) as jwt.JwtPayload;
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError)
        throw problems.unauthorized('TOKEN_EXPIRED', 'The token has expired.');
      if (error instanceof jwt.NotBeforeError)
        throw problems.unauthorized('TOKEN_NOT_ACTIVE', 'The token is not valid yet.');
      throw problems.unauthorized('INVALID_TOKEN', (error as Error).message);
    }
    if (typeof claims !== 'object' || claims === null) throw problems.unauthorized('INVALID_TOKEN', 'No claims.');
    if (claims.exp === undefined) throw problems.unauthorized('INVALID_TOKEN', 'The token has no "exp" claim.');
    const userId = claims.sub;
    const tenantId = (claims as { tenant_id?: unknown }).tenant_id;
    if (typeof userId !== 'string' || !ID.test(userId)) {
      throw problems.unauthorized('MISSING_CLAIMS', 'The token needs a "sub" claim (the user id).');
    }
    if (typeof tenantId !== 'string' || !ID.test(tenantId)) {
      throw problems.unauthorized('MISSING_CLAIMS', 'The token needs a "tenant_id" claim.');
    }
    const rawRoles = (claims as { roles?: unknown; role?: unknown }).roles ?? (claims as { role?: unknown }).role;
    const roles = (
      Array.isArray(rawRoles) ? rawRoles : typeof rawRoles === 'string' ? rawRoles.split(/[\s,]+/) : []
    ).filter((r): r is string => typeof r === 'string' && r.length > 0);
    return { tenantId, userId, roles };
  };
}

export const hasAnyRole = (principal: Principal, roles: readonly string[]): boolean =>
  principal.roles.some((r) => roles.includes(r));

export { ProblemError };

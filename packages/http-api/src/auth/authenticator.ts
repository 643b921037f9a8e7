import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { type CryptoKey, createRemoteJWKSet, errors as joseErrors } from 'jose';
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
  /** RSA (RS256) or P-256 (ES256) public key, PEM; enables that algorithm. */
  publicKey?: string;
  /** The identity provider's JWKS endpoint; enables RS256 and ES256 with its keys. */
  jwks?: JwksOptions;
  issuer?: string;
  audience?: string;
  /** @defaultValue 5 */
  clockToleranceSeconds?: number;
}

export interface JwksOptions {
  url: string;
  /** How long fetched keys are used before they are fetched again. @defaultValue 600 */
  cacheSeconds?: number;
  /**
   * A token whose `kid` is not among the cached keys makes the set be fetched again (key
   * rotation), at most once per this many seconds (random `kid`s cannot flood the provider).
   * @defaultValue 30
   */
  cooldownSeconds?: number;
  /** @defaultValue 5 */
  timeoutSeconds?: number;
}

export interface Authenticator {
  (authorizationHeader: string | undefined): Promise<Principal>;
  /**
   * With JWT_JWKS_URL: fetches the key set now and resolves with its number of keys, or rejects
   * saying why (called at start-up, so a wrong or unreachable URL shows in the log at once).
   */
  fetchKeys?: () => Promise<number>;
}

const ID = /^[\w.:@|+-]{1,128}$/;
/** Algorithms whose keys may come from the JWKS endpoint. */
const JWKS_ALGORITHMS: readonly jwt.Algorithm[] = ['RS256', 'ES256'];

/** The algorithm a PEM public key enables: RS256 for RSA, ES256 for P-256. */
function algorithmOf(key: KeyObject): jwt.Algorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(
    `JWT_PUBLIC_KEY: an RSA (RS256) or P-256 (ES256) public key is needed, not ${key.asymmetricKeyType ?? 'this key'}`,
  );
}

const isBadSignature = (error: unknown): boolean =>
  error instanceof jwt.JsonWebTokenError && error.message === 'invalid signature';

type KeyLookup = ((header: jwt.JwtHeader) => Promise<KeyObject[]>) & { fetchKeys: () => Promise<number> };

/**
 * The identity provider's keys (jose's remote JWK set: fetched on first use, cached, fetched
 * again for an unknown `kid`). Returns the keys that may have signed a token: one when the
 * token names its `kid`, every key of the algorithm's type when it does not.
 */
function jwksLookup(options: JwksOptions): KeyLookup {
  const url = new URL(options.url);
  const set = createRemoteJWKSet(url, {
    cacheMaxAge: (options.cacheSeconds ?? 600) * 1000,
    cooldownDuration: (options.cooldownSeconds ?? 30) * 1000,
    timeoutDuration: Math.round((options.timeoutSeconds ?? 5) * 1000),
  });
  // jose caches one CryptoKey per key; each is converted for jsonwebtoken once.
  const converted = new WeakMap<CryptoKey, KeyObject>();
  const toKeyObject = (key: CryptoKey): KeyObject => {
    let keyObject = converted.get(key);
    if (!keyObject) {
      keyObject = KeyObject.from(key);
      converted.set(key, keyObject);
    }
    return keyObject;
  };
  const lookup = async (header: jwt.JwtHeader): Promise<KeyObject[]> => {
    try {
      return [toKeyObject(await set({ alg: header.alg, ...(header.kid ? { kid: header.kid } : {}) }))];
    } catch (error) {
      if (error instanceof joseErrors.JWKSMultipleMatchingKeys) {
        const keys: KeyObject[] = [];
        for await (const key of error as unknown as AsyncIterable<CryptoKey>) keys.push(toKeyObject(key));
        return keys;
      }
      if (error instanceof joseErrors.JWKSNoMatchingKey) {
        throw problems.unauthorized(
          'INVALID_TOKEN',
          header.kid
            ? `No key of the identity provider has the token's kid "${header.kid}".`
            : `The identity provider has no ${header.alg} key.`,
        );
      }
      // The endpoint is down, slow, or answered something that is not a key set: the token
      // may well be valid, so this is not the caller's fault (503, not 401).
      throw new ProblemError(
        503,
        'AUTH_UNAVAILABLE',
        "The identity provider's keys could not be fetched",
        `JWT_JWKS_URL ${url.origin}${url.pathname}: ${describe(error)}. Retry shortly.`,
      );
    }
  };
  const fetchKeys = async (): Promise<number> => {
    try {
      await set.reload();
    } catch (error) {
      throw new Error(`JWT_JWKS_URL ${url.origin}${url.pathname}: ${describe(error)}`, { cause: error });
    }
    return set.jwks()?.keys.length ?? 0;
  };
  return Object.assign(lookup, { fetchKeys });
}

const describe = (error: unknown): string => {
  if (error instanceof joseErrors.JWKSTimeout) return 'no answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = (error as Error).message ?? String(error);
  return cause?.code ? `${message} (${cause.code})` : message;
};

/**
 * Verifies a bearer JWT. The key is chosen by the algorithm the *server* enabled for it
 * (HS256 → the secret; RS256/ES256 → the identity provider's JWKS keys and/or the PEM public
 * key), and each verification only accepts that one algorithm: `alg: none` and algorithm
 * confusion (an HS256 token signed with the public key as secret) are rejected. With both a
 * JWKS endpoint and a PEM key, a token is checked against the JWKS key of its `kid` first and
 * against the PEM key when the provider has no such key.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  // Keys are parsed once: given a string, jsonwebtoken would parse it on every request.
  const staticKeys = new Map<jwt.Algorithm, KeyObject>();
  if (options.secret) staticKeys.set('HS256', createSecretKey(Buffer.from(options.secret, 'utf8')));
  if (options.publicKey) {
    const key = createPublicKey(options.publicKey.replaceAll('\\n', '\n'));
    staticKeys.set(algorithmOf(key), key);
  }
  const jwks = options.jwks ? jwksLookup(options.jwks) : undefined;
  if (staticKeys.size === 0 && !jwks) {
    throw new Error('JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL must be set: no token could ever be verified');
  }

  /** The keys that may have signed a token with this header, and why the JWKS had none. */
  const keysFor = async (header: jwt.JwtHeader): Promise<{ keys: KeyObject[]; noJwksKey?: ProblemError }> => {
    const algorithm = header.alg as jwt.Algorithm;
    const staticKey = staticKeys.get(algorithm);
    if (jwks && JWKS_ALGORITHMS.includes(algorithm)) {
      try {
        const keys = await jwks(header);
        return { keys: staticKey ? [...keys, staticKey] : keys };
      } catch (error) {
        if (staticKey && error instanceof ProblemError && error.status === 401)
          return { keys: [staticKey], noJwksKey: error };
        throw error;
      }
    }
    if (staticKey) return { keys: [staticKey] };
    throw problems.unauthorized('INVALID_TOKEN', `Tokens signed with "${String(algorithm)}" are not accepted.`);
  };

  const verify = (
    token: string,
    algorithm: jwt.Algorithm,
    { keys, noJwksKey }: { keys: KeyObject[]; noJwksKey?: ProblemError },
  ): jwt.JwtPayload => {
    let failure: unknown;
    for (const key of keys) {
      try {
        return jwt.verify(token, key, {
          algorithms: [algorithm],
          ...(options.issuer ? { issuer: options.issuer } : {}),
          ...(options.audience ? { audience: options.audience } : {}),
          clockTolerance: options.clockToleranceSeconds ?? 5,
        }) as jwt.JwtPayload;
      } catch (error) {
        failure = error;
        // Claims are checked after the signature: a wrong claim will not verify under another key.
        if (!isBadSignature(error)) break;
      }
    }
    if (failure instanceof jwt.TokenExpiredError)
      throw problems.unauthorized('TOKEN_EXPIRED', 'The token has expired.');
    if (failure instanceof jwt.NotBeforeError)
      throw problems.unauthorized('TOKEN_NOT_ACTIVE', 'The token is not valid yet.');
    // Signed by none of the keys: an unknown kid says more than "invalid signature".
    if (noJwksKey && isBadSignature(failure)) throw noJwksKey;
    throw problems.unauthorized('INVALID_TOKEN', (failure as Error).message);
  };

  const authenticate: Authenticator = async (header) => {
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
    if (!match) throw problems.unauthorized('MISSING_TOKEN', 'Send "Authorization: Bearer <JWT>".');
    const token = match[1]!;
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded === 'string')
      throw problems.unauthorized('INVALID_TOKEN', 'The token is not a JWT.');
    const claims = verify(token, decoded.header.alg as jwt.Algorithm, await keysFor(decoded.header));
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
  if (jwks) authenticate.fetchKeys = jwks.fetchKeys;
  return authenticate;
}

export const hasAnyRole = (principal: Principal, roles: readonly string[]): boolean =>
  principal.roles.some((r) => roles.includes(r));

export { ProblemError };

import { createPrivateKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const TEST_JWT_SECRET = 'test-secret-at-least-32-bytes-long!!';
export const TEST_JWT_ISSUER = 'https://auth.test.local';
export const TEST_JWT_AUDIENCE = 'matchmaking';

let rsa: { privateKey: string; publicKey: string } | undefined;
/** An RSA key pair for RS256 tests (generated once per process). */
export function testRsaKeys(): { privateKey: string; publicKey: string } {
  rsa ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return rsa;
}

export interface MintOptions {
  /** @defaultValue 'HS256' with {@link TEST_JWT_SECRET} */
  algorithm?: 'HS256' | 'RS256';
  key?: string;
  /** @defaultValue '1h' */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
}

// Parsed keys, by algorithm and key text: jsonwebtoken would parse a string key on every call
// (about a millisecond each, the largest cost of minting for a load driver).
const parsedKeys = new Map<string, KeyObject>();
const parsedKey = (algorithm: string, key: string): KeyObject => {
  const cacheKey = `${algorithm}\u0000${key}`;
  let parsed = parsedKeys.get(cacheKey);
  if (!parsed) {
    parsed = algorithm.startsWith('HS') ? createSecretKey(Buffer.from(key)) : createPrivateKey(key);
    parsedKeys.set(cacheKey, parsed);
  }
  return parsed;
};

/** Mints a token the way an identity provider would, for tests and local load tools. */
export function mintToken(claims: Record<string, unknown>, options: MintOptions = {}): string {
  const algorithm = options.algorithm ?? 'HS256';
  const key = options.key ?? (algorithm === 'HS256' ? TEST_JWT_SECRET : testRsaKeys().privateKey);
  return jwt.sign(claims, parsedKey(algorithm, key), {
    algorithm,
    expiresIn: (options.expiresIn ?? '1h') as jwt.SignOptions['expiresIn'],
    issuer: options.issuer ?? TEST_JWT_ISSUER,
    audience: options.audience ?? TEST_JWT_AUDIENCE,
  });
}

/** A player token: `sub` = user, `tenant_id` = tenant. */
export const playerToken = (tenantId: string, userId: string, options?: MintOptions): string =>
  mintToken({ sub: userId, tenant_id: tenantId }, options);

/** A token with an admin/service role for /internal routes. */
export const adminToken = (tenantId: string, options?: MintOptions): string =>
  mintToken({ sub: 'ops', tenant_id: tenantId, roles: ['admin'] }, options);

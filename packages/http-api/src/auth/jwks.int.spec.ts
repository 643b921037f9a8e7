import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { type HttpDouble, json, mintToken, startHttpDouble, TEST_JWT_AUDIENCE, TEST_JWT_ISSUER } from '@mm/testing';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { ProblemError } from '../errors/problem.js';
import { createAuthenticator } from './authenticator.js';

/**
 * JWT_JWKS_URL against a local identity-provider double that publishes a JWK set and rotates
 * its keys. Tokens are signed with jose, the API verifies with jsonwebtoken: two libraries.
 */
interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}
const signingKey = async (kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
};
const sign = (key: SigningKey, claims: Record<string, unknown> = {}, kid: string | null = key.kid) =>
  new SignJWT({ sub: 'alice', tenant_id: 'tenant-jwks', ...claims })
    .setProtectedHeader({ alg: key.alg, ...(kid === null ? {} : { kid }) })
    .setIssuer(TEST_JWT_ISSUER)
    .setAudience(TEST_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);

/** The identity provider: serves `published` at /.well-known/jwks.json, or fails as told. */
let idp: HttpDouble;
let published: SigningKey[] = [];
let failure: 'none' | 'status-500' | 'not-json' | 'hang' = 'none';
const fetches = () => idp.requests.filter((r) => r.url === '/.well-known/jwks.json').length;

let stack: TestStack;
let k1: SigningKey;
let k2: SigningKey;
let ec: SigningKey;
beforeAll(async () => {
  [k1, k2, ec] = await Promise.all([signingKey('k1'), signingKey('k2'), signingKey('ec-1', 'ES256')]);
  idp = await startHttpDouble();
  idp.handle = async (req, res) => {
    if (req.url !== '/.well-known/jwks.json') return json(res, 404, {});
    if (failure === 'status-500') return json(res, 500, { error: 'down' });
    if (failure === 'not-json') {
      res.setHeader('content-type', 'text/html');
      return void res.end('<html>maintenance</html>');
    }
    if (failure === 'hang') return; // never answers (the test stack closes the connection)
    json(res, 200, { keys: published.map((k) => k.jwk) });
  };
  published = [k1, ec];
  stack = await startTestStack({
    JWT_JWKS_URL: `${idp.url}/.well-known/jwks.json`,
    // An unknown kid fetches the set again at once (the default waits 30 s between fetches).
    JWT_JWKS_COOLDOWN_SECONDS: '0',
    JWT_JWKS_TIMEOUT_SECONDS: '0.5',
  });
});
afterAll(async () => {
  await stack?.stop();
  await idp?.close();
});

const active = (token: string) => stack.request('GET', '/v1/matchmaking/active', { token });

describe('JWT_JWKS_URL: keys from the identity provider', () => {
  it('fetches the set at start-up, then accepts RS256 and ES256 tokens signed with its keys from the cache', async () => {
    await vi.waitFor(() => expect(fetches()).toBe(1));
    expect((await active(await sign(k1))).status).toBe(200);
    expect((await active(await sign(ec))).status).toBe(200);
    expect((await active(await sign(k1, { sub: 'bob' }))).status).toBe(200);
    expect(fetches()).toBe(1);
  });

  it('still accepts HS256 (JWT_SECRET) and PEM RS256 (JWT_PUBLIC_KEY) tokens beside it', async () => {
    expect((await active(mintToken({ sub: 'alice', tenant_id: 't' }))).status).toBe(200);
    expect((await active(mintToken({ sub: 'alice', tenant_id: 't' }, { algorithm: 'RS256' }))).status).toBe(200);
  });

  it('after a key rotation accepts the new key at once (unknown kid → fetched again) and rejects the retired one', async () => {
    published = [k2, ec]; // the provider rotates: k1 retired, k2 published
    const before = fetches();
    const res = await active(await sign(k2));
    expect(res.status).toBe(200);
    expect(fetches() - before).toBe(1);

    const retired = await active(await sign(k1));
    expect(retired.status).toBe(401);
    expect(retired.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(retired.body).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    expect(retired.body.detail).toContain('"k1"');
  });

  it('rejects a token whose kid the provider never published with 401 problem+json', async () => {
    const stranger = await signingKey('k-unknown');
    const res = await active(await sign(stranger));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    expect(res.body.detail).toContain('"k-unknown"');
  });

  it('rejects a token that names a published kid but is signed with another key, or has a wrong claim', async () => {
    const forger = await signingKey('k2');
    const forged = await active(await sign(forger));
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ code: 'INVALID_TOKEN' });
    expect(forged.body.detail).toMatch(/signature/);

    const wrongAudience = await new SignJWT({ sub: 'alice', tenant_id: 't' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k2' })
      .setIssuer(TEST_JWT_ISSUER)
      .setAudience('another-service')
      .setExpirationTime('10m')
      .sign(k2.privateKey);
    expect((await active(wrongAudience)).body).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
  });

  it('picks the right key of several when a token has no kid', async () => {
    expect((await active(await sign(k2, {}, null))).status).toBe(200);
    expect((await active(await sign(ec, {}, null))).status).toBe(200);
    const stranger = await signingKey('k-none');
    expect((await active(await sign(stranger, {}, null))).status).toBe(401);
  });

  it.each([
    ['answers 500', 'status-500', /Expected 200 OK/],
    ['answers HTML', 'not-json', /JSON/],
    ['does not answer in JWT_JWKS_TIMEOUT_SECONDS', 'hang', /no answer in time/],
  ] as const)(
    'when the provider %s: 503 AUTH_UNAVAILABLE for a new kid, cached keys keep working',
    async (_name, mode, reason) => {
      failure = mode;
      try {
        const rotated = await signingKey(`k-${mode}`);
        published = [k2, ec, rotated];
        const res = await active(await sign(rotated));
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 503, code: 'AUTH_UNAVAILABLE' });
        expect(res.body.detail).toContain(`JWT_JWKS_URL ${idp.url}/.well-known/jwks.json`);
        expect(res.body.detail).toMatch(reason);
        // The keys fetched before the outage are still used.
        expect((await active(await sign(k2))).status).toBe(200);
      } finally {
        failure = 'none';
        published = [k2, ec];
      }
    },
  );
});

describe('createAuthenticator with an unreachable JWKS endpoint', () => {
  it('answers 503 AUTH_UNAVAILABLE naming the endpoint and the connection error', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const authenticate = createAuthenticator({ jwks: { url: `http://127.0.0.1:${port}/jwks` } });
    const error = await authenticate(`Bearer ${await sign(k2)}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 503, code: 'AUTH_UNAVAILABLE' });
    expect((error as ProblemError).detail).toContain(`JWT_JWKS_URL http://127.0.0.1:${port}/jwks`);
    expect((error as ProblemError).detail).toMatch(/ECONNREFUSED/);
  });

  it('takes a P-256 PEM public key for ES256 and refuses other key types', async () => {
    const ecPem = createPublicKey({ key: ec.jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const authenticate = createAuthenticator({ publicKey: String(ecPem) });
    await expect(authenticate(`Bearer ${await sign(ec)}`)).resolves.toMatchObject({ userId: 'alice' });
    await expect(authenticate(`Bearer ${await sign(k2)}`)).rejects.toMatchObject({ status: 401 });
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    expect(() => createAuthenticator({ publicKey: String(ed) })).toThrow(/RSA \(RS256\) or P-256 \(ES256\)/);
  });

  it('fetchKeys (the start-up fetch) says how many keys there are, or why it could not fetch them', async () => {
    const working = createAuthenticator({ jwks: { url: `${idp.url}/.well-known/jwks.json` } });
    await expect(working.fetchKeys?.()).resolves.toBe(published.length);
    const missing = createAuthenticator({ jwks: { url: `${idp.url}/no-such-path` } });
    await expect(missing.fetchKeys?.()).rejects.toThrow(
      /^JWT_JWKS_URL http:\/\/127\.0\.0\.1:\d+\/no-such-path: Expected 200 OK/,
    );
    expect(createAuthenticator({ secret: 'a-secret-of-sufficient-length-for-hs256' }).fetchKeys).toBeUndefined();
  });

  it('refuses to be built without any key source', () => {
    expect(() => createAuthenticator({})).toThrow(/JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
  });
});

import { createHmac } from 'node:crypto';
import { mintToken, TEST_JWT_SECRET, testRsaKeys } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'alice',
  tenant_id: 'tenant-jwt',
  iss: 'https://auth.test.local',
  aud: 'matchmaking',
  exp: Math.floor(Date.now() / 1000) + 600,
  ...extra,
});
const hs256 = (payload: object, secret: string = TEST_JWT_SECRET) => {
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
};

const active = (token?: string, header?: string) =>
  stack.request('GET', '/v1/matchmaking/active', {
    ...(token ? { token } : {}),
    ...(header ? { headers: { authorization: header } } : {}),
  });

describe('JWT authentication over HTTP', () => {
  it('accepts a valid HS256 token and a valid RS256 token', async () => {
    expect((await active(mintToken({ sub: 'alice', tenant_id: 't' }))).status).toBe(200);
    expect((await active(mintToken({ sub: 'alice', tenant_id: 't' }, { algorithm: 'RS256' }))).status).toBe(200);
  });

  const failures: [string, () => { token?: string; header?: string }, string][] = [
    ['no Authorization header', () => ({}), 'MISSING_TOKEN'],
    ['a non-Bearer scheme', () => ({ header: `Basic ${Buffer.from('a:b').toString('base64')}` }), 'MISSING_TOKEN'],
    ['garbage', () => ({ token: 'not.a.jwt' }), 'INVALID_TOKEN'],
    [
      'an expired token',
      () => ({ token: mintToken({ sub: 'a', tenant_id: 't' }, { expiresIn: -60 }) }),
      'TOKEN_EXPIRED',
    ],
    [
      'a token not valid yet (nbf)',
      () => ({ token: hs256(claims({ nbf: Math.floor(Date.now() / 1000) + 600 })) }),
      'TOKEN_NOT_ACTIVE',
    ],
    [
      'a wrong issuer',
      () => ({ token: mintToken({ sub: 'a', tenant_id: 't' }, { issuer: 'https://evil' }) }),
      'INVALID_TOKEN',
    ],
    [
      'a wrong audience',
      () => ({ token: mintToken({ sub: 'a', tenant_id: 't' }, { audience: 'other-service' }) }),
      'INVALID_TOKEN',
    ],
    ['a bad signature', () => ({ token: hs256(claims(), 'another-secret-of-sufficient-length!!') }), 'INVALID_TOKEN'],
    [
      'a tampered payload',
      () => {
        const [h, , s] = hs256(claims()).split('.');
        return { token: `${h}.${b64(claims({ tenant_id: 'tenant-other' }))}.${s}` };
      },
      'INVALID_TOKEN',
    ],
    ['alg: none', () => ({ token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.` }), 'INVALID_TOKEN'],
    [
      'algorithm confusion (HS256 signed with the RS256 public key)',
      () => ({ token: hs256(claims(), testRsaKeys().publicKey) }),
      'INVALID_TOKEN',
    ],
    [
      'an unsupported algorithm (HS512)',
      () => ({
        token: mintToken({ sub: 'a', tenant_id: 't' }, { algorithm: 'HS512' as 'HS256', key: TEST_JWT_SECRET }),
      }),
      'INVALID_TOKEN',
    ],
    ['no exp', () => ({ token: hs256(claims({ exp: undefined })) }), 'INVALID_TOKEN'],
    ['no sub', () => ({ token: hs256(claims({ sub: undefined })) }), 'MISSING_CLAIMS'],
    ['no tenant_id', () => ({ token: hs256(claims({ tenant_id: undefined })) }), 'MISSING_CLAIMS'],
    ['a non-string tenant_id', () => ({ token: hs256(claims({ tenant_id: 42 })) }), 'MISSING_CLAIMS'],
  ];

  it.each(failures.map(([name, make, code]) => [name, code, make] as const))(
    'rejects %s with 401 %s',
    async (_name, code, make) => {
      const { token, header } = make();
      const res = await active(token, header);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401, code });
    },
  );

  it('rejects a bad token on a command without appending anything', async () => {
    const before = (await stack.allEvents()).length;
    const res = await stack.request('POST', '/v1/matchmaking/queue', {
      token: hs256(claims(), 'wrong-secret-wrong-secret-wrong-secret'),
      body: { time_control: '3+0', mode: 'rated' },
    });
    expect(res.status).toBe(401);
    expect((await stack.allEvents()).length).toBe(before);
  });
});

/**
 * Prints a JWT for local use: `pnpm -s jwt <tenant> <user> [--admin]`.
 * Signed with JWT_SECRET (the local default of infra/start.sh unless you set one).
 */
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { admin: { type: 'boolean', default: false }, ttl: { type: 'string', default: '3600' } },
});
const [tenant, user] = positionals;
if (!tenant || !user) {
  console.error('usage: pnpm -s jwt <tenant> <user> [--admin] [--ttl seconds]');
  process.exit(2);
}
const secret = process.env.JWT_SECRET ?? 'local-dev-secret-not-for-production';
const now = Math.floor(Date.now() / 1000);
const claims: Record<string, unknown> = { sub: user, tenant_id: tenant, iat: now, exp: now + Number(values.ttl) };
if (process.env.JWT_ISSUER) claims.iss = process.env.JWT_ISSUER;
if (process.env.JWT_AUDIENCE) claims.aud = process.env.JWT_AUDIENCE;
if (values.admin) claims.roles = ['admin'];
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
console.log(`${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`);

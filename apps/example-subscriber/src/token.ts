import { createHmac } from 'node:crypto';

export interface ServiceTokenOptions {
  secret: string;
  tenant: string;
  /** `service` reads the tenant's events; a platform role (`platform`) reads every tenant's. */
  role: string;
  subject?: string;
  issuer?: string;
  audience?: string;
  /** @defaultValue 3600 */
  ttlSeconds?: number;
}

/**
 * A service token (HS256, like infra/mint-token.ts) for the event feed. Re-minted before it
 * expires, so a long-running consumer never reconnects with a stale one.
 */
export function serviceTokens(options: ServiceTokenOptions): () => string {
  const ttl = options.ttlSeconds ?? 3600;
  let token = '';
  let renewAt = 0;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    if (now < renewAt) return token;
    const claims: Record<string, unknown> = {
      sub: options.subject ?? 'player-history',
      tenant_id: options.tenant,
      roles: [options.role],
      iat: now,
      exp: now + ttl,
      ...(options.issuer ? { iss: options.issuer } : {}),
      ...(options.audience ? { aud: options.audience } : {}),
    };
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
    token = `${body}.${createHmac('sha256', options.secret).update(body).digest('base64url')}`;
    renewAt = now + Math.floor(ttl / 2);
    return token;
  };
}

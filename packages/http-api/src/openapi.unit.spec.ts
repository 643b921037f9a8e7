import { readFileSync } from 'node:fs';
import { domainErrorStatus, isDomainErrorCode } from '@mm/domain';
import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiSchemas, problemCodes } from './openapi.js';

const mounts: Record<string, string> = {
  'queue.ts': '/v1/matchmaking',
  'challenges.ts': '/v1/matchmaking',
  'internal.ts': '/internal',
  'events.ts': '/v1',
};
const normalise = (path: string) => path.replace(/:\w+/g, '{}').replace(/\{\w+\}/g, '{}');

/** Every route the routers register, read from their source (method + path template). */
const registeredRoutes = (): string[] =>
  Object.entries(mounts).flatMap(([file, prefix]) => {
    const source = readFileSync(new URL(`./routes/${file}`, import.meta.url), 'utf8');
    return [...source.matchAll(/router\.(get|post|delete)\('([^']+)'/g)].map(
      ([, method, path]) => `${method} ${normalise(prefix + path)}`,
    );
  });

describe('OpenAPI document', () => {
  const doc = openApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: Record<string, unknown> };
  };
  const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m} ${normalise(path)}`),
  );

  it('documents exactly the routes the API registers', () => {
    expect(documented.sort()).toEqual(registeredRoutes().sort());
  });

  it('has a JSON schema for every referenced component, generated from the contracts', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = [...JSON.stringify(doc.paths).matchAll(/#\/components\/schemas\/(\w+)/g)].map(([, name]) => name!);
    for (const name of refs) expect(doc.components.schemas[name]).toBeDefined();
    expect(doc.components.schemas.JoinQueueRequest).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['time_control', 'mode']),
      additionalProperties: false,
    });
  });

  type Media = { schema: { $ref: string }; example?: unknown; examples?: Record<string, { value: unknown }> };
  type Op = {
    operationId: string;
    tags: string[];
    parameters: { name: string; in: string }[];
    requestBody?: { content: Record<string, Media> };
    responses: Record<string, { headers?: Record<string, unknown>; content: Record<string, Media> }>;
  };
  const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods) as Op[]);
  const schemaOf = (media: Media) =>
    openApiSchemas[media.schema.$ref.replace('#/components/schemas/', '') as keyof typeof openApiSchemas];

  it('gives every operation a unique operationId and a declared tag; servers are set', () => {
    const ids = operations.map((op) => op.operationId);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = (doc as unknown as { tags: { name: string }[] }).tags.map((t) => t.name);
    for (const op of operations) expect(tags).toContain(op.tags[0]);
    expect((doc as unknown as { servers: unknown }).servers).toEqual([
      { url: '/', description: 'The server this document was fetched from' },
    ]);
    expect(openApiDocument({ serverUrl: 'https://api.example.com' }).servers).toEqual([
      { url: 'https://api.example.com', description: 'This deployment' },
    ]);
  });

  it('has examples that the contract schemas accept, for every request, answer and problem', () => {
    let checked = 0;
    for (const op of operations) {
      const bodies = [
        ...Object.values(op.requestBody?.content ?? {}).map((media) => [media, [media.example]] as const),
        ...Object.values(op.responses).flatMap((response) =>
          Object.values(response.content).map(
            (media) => [media, Object.values(media.examples ?? {}).map((e) => e.value)] as const,
          ),
        ),
      ];
      for (const [media, examples] of bodies) {
        expect(examples.length, `${op.operationId} has an example`).toBeGreaterThan(0);
        for (const example of examples) {
          const parsed = schemaOf(media).safeParse(example);
          expect(parsed.success, `${op.operationId}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
          checked += 1;
        }
      }
      // Each problem example sits under the status it is sent with.
      for (const [status, response] of Object.entries(op.responses)) {
        const examples = response.content['application/problem+json']?.examples ?? {};
        for (const example of Object.values(examples))
          expect((example.value as { status: number }).status).toBe(Number(status));
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('documents each stable code with the status the API sends it with', () => {
    for (const [code, [status]] of Object.entries(problemCodes)) {
      if (isDomainErrorCode(code)) expect(status, code).toBe(domainErrorStatus[code]);
    }
    for (const op of operations) {
      expect(Object.keys(op.responses['401']!.content['application/problem+json']!.examples!)).toContain(
        'INVALID_TOKEN',
      );
      expect(op.responses['503']).toBeDefined();
    }
  });

  it('documents the rate limits of every command: 429 RATE_LIMITED with Retry-After and RateLimit-* headers', () => {
    const commands = operations.filter((op) => op.parameters.some((p) => p.name === 'Idempotency-Key'));
    expect(commands.map((op) => op.operationId).sort()).toEqual([
      'acceptChallenge',
      'cancelChallenge',
      'cancelQueueEntry',
      'createChallenge',
      'declineChallenge',
      'joinQueue',
    ]);
    for (const op of commands) {
      const refused = op.responses['429']!;
      expect(Object.keys(refused.content['application/problem+json']!.examples!)).toContain('RATE_LIMITED');
      expect(Object.keys(refused.headers ?? {})).toEqual(
        expect.arrayContaining(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']),
      );
    }
  });
});

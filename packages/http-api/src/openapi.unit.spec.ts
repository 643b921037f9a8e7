import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.js';

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
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, fromFile, Parser, type SchemaParser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { eventVersions, SCHEMA_FORMAT } from '../scripts/contract-files.js';
import {
  CHALLENGE_CATEGORY,
  challengeEventTypes,
  eventSchemas,
  MATCH_CATEGORY,
  matchEventTypes,
  PLAYER_CATEGORY,
  POOL_CATEGORY,
  playerEventTypes,
  poolEventTypes,
} from '../src/index.js';

/**
 * @asyncapi/parser 3.6.6 knows AsyncAPI and draft-07 schemas; our payloads are draft 2020-12
 * (what the schema files declare), so the parser gets a schema parser for that format. For
 * AsyncAPI 3 documents the parser hands every payload (its $refs resolved) to `parse` and not
 * to `validate`, so `parse` checks it against the 2020-12 meta-schema.
 */
const ajv = new Ajv2020({ strict: false });
/** Just what the payload checks below read of a JSON Schema. */
interface SchemaNode {
  const?: unknown;
  properties: Record<string, SchemaNode>;
}

/** Each payload the parser handed over: the message id (the path is `…messages.<id>.payload.schema`) and its errors. */
const payloads: { message: string | undefined; errors: string | null }[] = [];
const draft2020: SchemaParser = {
  getMimeTypes: () => [SCHEMA_FORMAT],
  validate: async ({ data, path }) =>
    ajv.validateSchema(data as object) ? [] : [{ message: ajv.errorsText(ajv.errors), path }],
  parse: async ({ data, path }) => {
    payloads.push({
      message: path.at(-3)?.toString(),
      errors: ajv.validateSchema(data as object) ? null : ajv.errorsText(ajv.errors),
    });
    return data as never;
  },
};

const path = fileURLToPath(new URL('../asyncapi.yaml', import.meta.url));
const parser = new Parser({ schemaParsers: [draft2020] });
const parsed = fromFile(parser, path).parse();
const errorsOf = (diagnostics: Awaited<typeof parsed>['diagnostics']) =>
  diagnostics
    .filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning)
    .map((d) => `${d.path.join('.')}: ${d.message}`);

// The parser (Spectral rules, $ref resolution of the schema files) takes seconds on a busy machine.
describe('asyncapi.yaml', { timeout: 60_000 }, () => {
  it('is a valid AsyncAPI 3.0 document (no errors or warnings from @asyncapi/parser)', async () => {
    const { document, diagnostics } = await parsed;
    expect(errorsOf(diagnostics)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const messages = new Set(payloads.map((p) => p.message));
    expect([...messages].sort()).toEqual(['EventFeedPage', ...eventVersions().map((v) => v.id)].sort());
    expect(payloads.filter((p) => p.errors)).toEqual([]);
  });

  it('the same checks find a broken document (an AsyncAPI 2 action, a payload that is no schema)', async () => {
    payloads.length = 0;
    const text = readFileSync(path, 'utf8');
    const broken = text
      .replace('action: send', 'action: publish')
      .replace('schema:\n          $ref: ./schemas/EventFeedPage.v1.json', 'schema:\n          type: 42');
    expect(broken).not.toBe(text);
    const { document, diagnostics } = await parser.parse(broken, { source: path });
    expect(document).toBeUndefined();
    expect(errorsOf(diagnostics).join('\n')).toMatch(/action/);
    const fixed = await parser.parse(broken.replace('action: publish', 'action: send'), { source: path });
    expect(errorsOf(fixed.diagnostics)).toEqual([]);
    expect(payloads.find((p) => p.message === 'EventFeedPage')?.errors).toMatch(/type/);
  });

  it("has a message for every event version, whose payload resolves to the envelope and that version's data schema", async () => {
    const { document } = await parsed;
    const messages = document!.components().messages();
    for (const { id, type, schemaVersion, schema } of eventVersions()) {
      const message = messages.get(id);
      expect(message, id).toBeDefined();
      expect(message!.name()).toBe(type);
      const payload = (message!.payload()!.json() as { schema: { allOf: SchemaNode[] } }).schema;
      const [envelope, specific] = payload.allOf;
      expect(Object.keys(envelope!.properties)).toEqual(
        expect.arrayContaining(['position', 'type', 'schema_version', 'data', 'metadata']),
      );
      const { type: typeSchema, schema_version: versionSchema, data } = specific!.properties;
      expect(typeSchema?.const).toBe(type);
      expect(versionSchema?.const).toBe(schemaVersion);
      const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
      expect(Object.keys(data?.properties ?? {}).sort()).toEqual(Object.keys(shape ?? { none: 1 }).sort());
    }
  });

  it("describes the HTTP feed and one channel per stream category with exactly that category's events", async () => {
    const { document } = await parsed;
    const channels = document!.channels();
    const idsOf = (types: readonly string[]) =>
      eventVersions()
        .filter((v) => types.includes(v.type))
        .map((v) => v.id)
        .sort();
    expect(channels.get('eventPages')!.address()).toBe('/events');
    expect(channels.get('eventStream')!.address()).toBe('/events/stream');
    expect(
      channels
        .get('eventStream')!
        .messages()
        .all()
        .map((m) => m.id())
        .sort(),
    ).toEqual(idsOf(Object.keys(eventSchemas)));
    for (const [category, types] of [
      [PLAYER_CATEGORY, playerEventTypes],
      [MATCH_CATEGORY, matchEventTypes],
      [CHALLENGE_CATEGORY, challengeEventTypes],
      [POOL_CATEGORY, poolEventTypes],
    ] as const) {
      const channel = channels.get(`${category}Streams`)!;
      expect(channel.address()).toMatch(new RegExp(`^${category}-\\{`));
      expect(
        channel
          .messages()
          .all()
          .map((m) => m.id())
          .sort(),
      ).toEqual(idsOf(types));
    }
    const pages = document!.operations().get('readEventPages')!;
    expect(
      Object.keys((pages.bindings().get('http')!.value() as { query: { properties: object } }).query.properties),
    ).toEqual(['after', 'types', 'categories', 'limit']);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { contractFiles, eventVersions } from '../scripts/contract-files.js';
import { eventSchemas } from '../src/index.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const { version } = JSON.parse(read('package.json')) as { version: string };
const generated = contractFiles(version);
const fixture = (id: string) =>
  JSON.parse(read(`fixtures/${id}.json`)) as { type: string; schema_version: number; data: Record<string, unknown> };

const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: false });
addFormats.default(ajv);
const validatorOf = (file: string) => ajv.compile(JSON.parse(read(file)));

describe('generated contract files', () => {
  it('are up to date with the zod schemas (run `pnpm contracts:generate` after changing a schema or registering an event)', () => {
    for (const [path, content] of generated) expect(read(path), `${path} is out of date`).toBe(content);
    const onDisk = readdirSync(new URL('schemas/', root)).map((name) => `schemas/${name}`);
    expect(onDisk.sort(), 'schemas/ holds exactly the generated files').toEqual(
      [...generated.keys()].filter((path) => path.startsWith('schemas/')).sort(),
    );
  });

  it('include a schema for every version of every registered event type', () => {
    for (const [type, { schemaVersion }] of Object.entries(eventSchemas))
      for (let v = 1; v <= schemaVersion; v++)
        expect(generated.has(`schemas/${type}.v${v}.json`), `${type} v${v}`).toBe(true);
    expect(eventVersions().some((v) => v.superseded)).toBe(true);
  });

  it('are valid draft 2020-12 schemas that accept the stored fixtures', () => {
    for (const { id } of eventVersions()) {
      const validate = validatorOf(`schemas/${id}.json`);
      expect(validate(fixture(id).data), `${id}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    const envelope = validatorOf('schemas/EventEnvelope.v1.json');
    const page = validatorOf('schemas/EventFeedPage.v1.json');
    const all = eventVersions().map(({ id }) => fixture(id));
    for (const event of all) expect(envelope(event), ajv.errorsText(envelope.errors)).toBe(true);
    expect(page({ events: all, next: 117964800000 })).toBe(true);
    expect(page({ events: [], next: null })).toBe(true);
  });

  it('reject data a reader could not take: a missing field, a wrong enum value, a malformed instant, an old field name', () => {
    const joined = validatorOf('schemas/QueueJoined.v1.json');
    const { enqueuedAt: _missing, ...withoutInstant } = fixture('QueueJoined.v1').data;
    expect(joined(withoutInstant)).toBe(false);
    expect(joined({ ...fixture('QueueJoined.v1').data, ratingSource: 'guess' })).toBe(false);
    expect(joined({ ...fixture('QueueJoined.v1').data, enqueuedAt: 'yesterday' })).toBe(false);
    expect(
      joined({
        ...fixture('QueueJoined.v1').data,
        pool: { ...(fixture('QueueJoined.v1').data.pool as object), timeControl: '3' },
      }),
    ).toBe(false);
    // v1 data is not v2 data: the renamed field is required under its new name
    expect(validatorOf('schemas/ChallengeIssued.v2.json')(fixture('ChallengeIssued.v1').data)).toBe(false);
    // tolerant readers: an unknown extra field is fine
    expect(joined({ ...fixture('QueueJoined.v1').data, addedLater: 1 })).toBe(true);
  });
});

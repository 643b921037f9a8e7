import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileCheck } from '../src/events/stored-check.js';
import { EventContractError, EventEnvelope, eventSchemas, parseEvent, parseStoredEvent } from '../src/index.js';

/*
 * parseStoredEvent checks the data of events read back from the log with the schemas compiled
 * into plain predicates (src/events/stored-check.ts). It must accept exactly what zod accepts:
 * every stored fixture, and each fixture changed in one place — every field and array element
 * removed, set to null, or set to a value of another type or out of bounds — is accepted by
 * both or refused by both, and a refused one throws parseEvent's error.
 */
const dir = new URL('../fixtures/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => EventEnvelope.parse(JSON.parse(readFileSync(new URL(name, dir), 'utf8'))))
  .filter(
    (envelope) => eventSchemas[envelope.type as keyof typeof eventSchemas].schemaVersion === envelope.schema_version,
  );

type Path = (string | number)[];

/** Every path to a value inside `data` (objects' keys and arrays' elements, at any depth). */
function pathsOf(value: unknown, path: Path = []): Path[] {
  const paths: Path[] = path.length > 0 ? [path] : [];
  if (Array.isArray(value)) for (const [i, v] of value.entries()) paths.push(...pathsOf(v, [...path, i]));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths.push(...pathsOf(v, [...path, k]));
  return paths;
}

const REMOVE = Symbol('remove');
const replacements: unknown[] = [
  REMOVE,
  null,
  undefined,
  '',
  'x',
  'x'.repeat(201),
  0,
  -1,
  1.5,
  1e21,
  Number.NaN,
  Infinity,
  true,
  {},
  [],
  '2026-13-01T00:00:00Z',
  '5+3',
  'white',
];

/** `data` with the value at `path` replaced (or removed). */
function changed(data: unknown, path: Path, replacement: unknown): unknown {
  const copy = structuredClone(data) as Record<string | number, unknown>;
  let target = copy;
  for (const step of path.slice(0, -1)) target = target[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === REMOVE) {
    if (Array.isArray(target)) target.splice(last as number, 1);
    else delete target[last];
  } else target[last] = replacement;
  return copy;
}

describe('parseStoredEvent (compiled contract checks)', () => {
  it('compiles every current event schema (none falls back to zod)', () => {
    for (const [type, { schema }] of Object.entries(eventSchemas)) expect(compileCheck(schema), type).not.toBeNull();
  });

  it.each(fixtures.map((f) => [f.type, f] as const))(
    '%s: the fixture is accepted and returned as stored',
    (_type, f) => {
      const stored = parseStoredEvent(f.type, f.schema_version, f.data);
      expect(stored.data).toBe(f.data);
      expect(stored).toEqual(parseEvent(f.type, f.schema_version, f.data));
    },
  );

  it.each(fixtures.map((f) => [f.type, f] as const))(
    '%s: every one-place change is accepted or refused as zod does',
    (_type, f) => {
      const { schema } = eventSchemas[f.type as keyof typeof eventSchemas];
      const check = compileCheck(schema)!;
      let refused = 0;
      for (const path of pathsOf(f.data))
        for (const replacement of replacements) {
          const data = changed(f.data, path, replacement);
          const zodAccepts = schema.safeParse(data).success;
          expect(check(data), `${path.join('.')} = ${String(replacement)}`).toBe(zodAccepts);
          if (!zodAccepts) {
            refused++;
            expect(() => parseStoredEvent(f.type, f.schema_version, data)).toThrow(EventContractError);
          }
        }
      expect(refused).toBeGreaterThan(0);
    },
  );

  it('keeps keys zod would strip (the data is not copied) and refuses what is not an object', () => {
    const f = fixtures.find((e) => e.type === 'QueueTimedOut')!;
    const extra = { ...(f.data as object), note: 'from a newer writer' };
    expect(parseStoredEvent('QueueTimedOut', 1, extra).data).toBe(extra);
    for (const data of [null, [], 'x', 3])
      expect(() => parseStoredEvent('QueueTimedOut', 1, data)).toThrow(/invalid QueueTimedOut v1 data/);
  });

  it('upcasts older versions through parseEvent', () => {
    const v1 = JSON.parse(readFileSync(new URL('ChallengeIssued.v1.json', dir), 'utf8')) as { data: unknown };
    expect(parseStoredEvent('ChallengeIssued', 1, v1.data)).toEqual(parseEvent('ChallengeIssued', 1, v1.data));
  });
});

describe('compileCheck (the generated predicate) on every kind of schema it compiles', () => {
  const big = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] as const;
  const schema = z.strictObject({
    'key "quoted"\\': z.string().min(2).max(4),
    uuid: z.uuid(),
    at: z.iso.datetime(),
    count: z.number().int().gte(0).lt(10),
    ratio: z.number().gt(0).lte(1),
    flag: z.boolean(),
    small: z.enum(['x', 'y']),
    large: z.enum(big),
    literal: z.literal([1, 'one', true, null]),
    maybe: z.string().nullable().optional(),
    list: z
      .array(z.object({ n: z.number() }))
      .min(1)
      .max(2),
    even: z.number().refine((n) => n % 2 === 0),
  });
  const valid = {
    'key "quoted"\\': 'abc',
    uuid: '0b4f3c1e-2a57-4c8e-9f00-0123456789ab',
    at: '2026-12-02T10:00:00.000Z',
    count: 3,
    ratio: 0.5,
    flag: false,
    small: 'y',
    large: 'j',
    literal: null,
    list: [{ n: 1, extra: 'kept' }],
    even: 4,
  };
  const check = compileCheck(schema)!;

  it('accepts what zod accepts and refuses what zod refuses, field by field', () => {
    expect(check(valid)).toBe(true);
    let refused = 0;
    for (const path of pathsOf(valid))
      for (const replacement of [...replacements, 'k', 'one', 1, 11, 2, 'abcde', [{ n: 1 }, { n: 2 }, { n: 3 }]]) {
        const data = changed(valid, path, replacement);
        const zodAccepts = schema.safeParse(data).success;
        expect(check(data), `${path.join('.')} = ${JSON.stringify(replacement)}`).toBe(zodAccepts);
        if (!zodAccepts) refused++;
      }
    expect(refused).toBeGreaterThan(100);
    // a key the strict object does not know
    expect(check({ ...valid, unknown: 1 })).toBe(schema.safeParse({ ...valid, unknown: 1 }).success);
  });

  it('gives up (null) on what it does not compile, so the caller keeps zod', () => {
    expect(compileCheck(z.string().transform((s) => s.length))).toBeNull();
    expect(compileCheck(z.union([z.string(), z.number()]))).toBeNull();
    expect(compileCheck(z.coerce.number())).toBeNull();
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventContractError, EventEnvelope, eventSchemas, parseEvent } from '../src/index.js';

/*
 * Stored events of every schema version we ever wrote. They must keep parsing, through the
 * upcasters, for as long as the log keeps them (forever): never edit a fixture to make this
 * pass; change the upcaster. A new event type or version needs its fixture here.
 */
const dir = new URL('../fixtures/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, envelope: EventEnvelope.parse(JSON.parse(readFileSync(new URL(name, dir), 'utf8'))) }));
const current = (type: string) => eventSchemas[type as keyof typeof eventSchemas]?.schemaVersion;

/** What each superseded version reads as today (the upcast result), written out by hand. */
const upcastExpected: Record<string, unknown> = {
  'ChallengeIssued.v1': {
    challengeId: '9a1e2b3c-4d5f-4a6b-8c7d-0e1f2a3b4c5d',
    challengerId: 'gina',
    opponentId: 'hank',
    timeControl: '5+3',
    mode: 'casual',
    challengerColour: 'black',
    message: 'rematch?',
    issuedAt: '2026-03-14T09:35:10.000Z',
    expiresAt: '2026-03-14T09:36:10.000Z',
  },
};

describe('stored event fixtures', () => {
  it('exist for every version of every registered event type (add fixtures/<Type>.v<N>.json)', () => {
    const names = new Set(fixtures.map((f) => f.name));
    for (const [type, { schemaVersion }] of Object.entries(eventSchemas))
      for (let v = 1; v <= schemaVersion; v++) expect(names.has(`${type}.v${v}.json`), `${type}.v${v}.json`).toBe(true);
  });

  it.each(fixtures.map((f) => [f.name, f.envelope] as const))('%s parses through parseEvent', (name, envelope) => {
    expect(name).toBe(`${envelope.type}.v${envelope.schema_version}.json`);
    const event = parseEvent(envelope.type, envelope.schema_version, envelope.data);
    expect(event.type).toBe(envelope.type);
    if (envelope.schema_version === current(envelope.type)) expect(event.data).toEqual(envelope.data);
    else
      expect(event.data).toEqual(
        upcastExpected[`${envelope.type}.v${envelope.schema_version}`] ?? 'an expected upcast result',
      );
  });

  it('a superseded version is validated by its own schema before it is upcast', () => {
    const { envelope } = fixtures.find((f) => f.name === 'ChallengeIssued.v1.json')!;
    const { colour: _colour, ...withoutColour } = envelope.data;
    expect(() => parseEvent('ChallengeIssued', 1, withoutColour)).toThrow(/invalid ChallengeIssued v1 data/);
    expect(() => parseEvent('ChallengeIssued', 1, { ...envelope.data, opponentId: 'gina' })).toThrow(
      EventContractError,
    );
    // and v2 data written as v1 is not mistaken for it
    const v2 = fixtures.find((f) => f.name === 'ChallengeIssued.v2.json')!.envelope.data;
    expect(() => parseEvent('ChallengeIssued', 1, v2)).toThrow(/colour/);
  });
});

import { describe, expect, it } from 'vitest';
import { matchEventId, queueMatchId, timeoutEventId, uuidFrom } from './deterministic-ids.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deterministic ids', () => {
  it('are UUIDs (version 8) and stable for the same parts', () => {
    expect(uuidFrom('a', 1)).toMatch(UUID);
    expect(uuidFrom('a', 1)).toBe(uuidFrom('a', 1));
    expect(uuidFrom('a', 1)).not.toBe(uuidFrom('a', 2));
  });

  it('do not confuse part boundaries', () => {
    expect(uuidFrom('ab', 'c')).not.toBe(uuidFrom('a', 'bc'));
  });

  it('queue match id does not depend on the order of the two sides', () => {
    const x = { queueEntryId: 'e1', streamRevision: 3 };
    const y = { queueEntryId: 'e2', streamRevision: 7 };
    expect(queueMatchId('t', x, y)).toBe(queueMatchId('t', y, x));
  });

  it('queue match id changes when an entry was released and searches again (its stream moved)', () => {
    const x = { queueEntryId: 'e1', streamRevision: 3 };
    const y = { queueEntryId: 'e2', streamRevision: 7 };
    expect(queueMatchId('t', x, y)).not.toBe(queueMatchId('t', { ...x, streamRevision: 5 }, y));
    expect(queueMatchId('t', x, y)).not.toBe(queueMatchId('other-tenant', x, y));
  });

  it('event ids differ per step and per participant', () => {
    const ids = new Set([
      matchEventId('m', 'claimed', 'e1'),
      matchEventId('m', 'claimed', 'e2'),
      matchEventId('m', 'created'),
      matchEventId('m2', 'created'),
      timeoutEventId('t', 'e1'),
    ]);
    expect(ids.size).toBe(5);
  });
});

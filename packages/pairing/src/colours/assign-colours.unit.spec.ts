import { describe, expect, it } from 'vitest';
import type { PoolEntry } from '../pool/pool-entry.js';
import { assignColours } from './assign-colours.js';

const entry = (entryId: string, colourHistory?: ('white' | 'black')[]): PoolEntry => ({
  entryId,
  userId: `u-${entryId}`,
  rating: 1500,
  enqueuedAt: 0,
  colourHistory,
});

describe('assignColours', () => {
  it('gives black to the player who had white more often', () => {
    const r = assignColours({ a: entry('a', ['white', 'white', 'black']), b: entry('b', ['black']) }, 'm1');
    expect([r.white.entryId, r.black.entryId, r.reason]).toEqual(['b', 'a', 'colour-history']);
  });

  it('on equal balance gives black to the player who had white more recently', () => {
    const r = assignColours({ a: entry('a', ['black', 'white']), b: entry('b', ['white', 'black']) }, 'm1');
    expect([r.white.entryId, r.black.entryId, r.reason]).toEqual(['b', 'a', 'colour-history']);
  });

  it('uses a coin seeded by the match id without history: reproducible and order-independent', () => {
    const a = entry('a');
    const b = entry('b');
    const whites = new Set<string>();
    for (let k = 0; k < 40; k++) {
      const id = `match-${k}`;
      const r1 = assignColours({ a, b }, id);
      const r2 = assignColours({ a: b, b: a }, id);
      expect(r1.reason).toBe('seeded-coin');
      expect(r2.white.entryId).toBe(r1.white.entryId);
      expect(assignColours({ a, b }, id).white.entryId).toBe(r1.white.entryId);
      whites.add(r1.white.entryId);
    }
    expect(whites).toEqual(new Set(['a', 'b']));
  });

  it('treats identical histories as no information', () => {
    const r = assignColours({ a: entry('a', ['white']), b: entry('b', ['white']) }, 'm');
    expect(r.reason).toBe('seeded-coin');
  });
});

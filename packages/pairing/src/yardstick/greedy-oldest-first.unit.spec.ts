import { describe, expect, it } from 'vitest';
import { defaultPairingConfig } from '../config.js';
import type { PoolEntry } from '../pool/pool-entry.js';
import { greedyOldestFirst } from './greedy-oldest-first.js';

const NOW = 1_000_000;

describe('greedyOldestFirst (old design)', () => {
  it('pairs the oldest entry with the oldest allowed candidate, not the closest', () => {
    const entries: PoolEntry[] = [
      { entryId: 'a', userId: '1', rating: 1500, enqueuedAt: NOW - 9_000 },
      { entryId: 'b', userId: '2', rating: 1590, enqueuedAt: NOW - 8_000 },
      { entryId: 'c', userId: '3', rating: 1501, enqueuedAt: NOW - 1_000 },
      { entryId: 'd', userId: '4', rating: 1800, enqueuedAt: NOW },
    ];
    const result = greedyOldestFirst(entries, NOW, defaultPairingConfig);
    expect(result.pairs.map((p) => [p.a.entryId, p.b.entryId])).toEqual([['a', 'b']]);
    expect(result.unpaired.map((e) => e.entryId)).toEqual(['c', 'd']);
  });
});

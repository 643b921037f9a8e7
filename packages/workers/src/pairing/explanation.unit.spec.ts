import { MatchCreatedData } from '@mm/contracts';
import { ALGORITHM_VERSION, defaultPairingConfig, pairPool } from '@mm/pairing';
import { describe, expect, it } from 'vitest';
import { buildQueueMatch } from './explanation.js';

const now = Date.parse('2025-01-01T12:00:00.000Z');
const entries = [
  { entryId: 'e-1', userId: 'alice', rating: 1500, enqueuedAt: now - 30_000, colourHistory: ['white' as const] },
  { entryId: 'e-2', userId: 'bob', rating: 1560, enqueuedAt: now - 5_000, colourHistory: ['black' as const] },
];

describe('buildQueueMatch', () => {
  const [pair] = pairPool(entries, now, defaultPairingConfig).pairs;

  it('carries the full explanation and validates against the MatchCreated schema', () => {
    const match = buildQueueMatch({ matchId: 'm-1', poolKey: '3+0:rated', pair: pair!, decidedAt: now });
    expect(MatchCreatedData.parse(match)).toEqual(match);
    expect(match).toMatchObject({
      matchId: 'm-1',
      source: 'queue',
      pool: { key: '3+0:rated', timeControl: '3+0', mode: 'rated' },
      ratingGap: 60,
      algorithmVersion: ALGORITHM_VERSION,
      decidedAt: '2025-01-01T12:00:00.000Z',
    });
    expect(match.weight).toBe(pair!.explanation.weight);
  });

  it('gives each side its own rating, window and wait (whatever the colours)', () => {
    const match = buildQueueMatch({ matchId: 'm-1', poolKey: '3+0:rated', pair: pair!, decidedAt: now });
    const alice = match.white.userId === 'alice' ? match.white : match.black;
    const bob = match.white.userId === 'bob' ? match.white : match.black;
    expect(alice).toEqual({
      userId: 'alice',
      queueEntryId: 'e-1',
      rating: 1500,
      window: { low: pair!.explanation.windows[0].low, high: pair!.explanation.windows[0].high },
      waitMs: 30_000,
    });
    expect(bob).toMatchObject({ userId: 'bob', queueEntryId: 'e-2', rating: 1560, waitMs: 5_000 });
    // I4, as an auditor would check it: each rating inside the other's window
    expect(bob.rating).toBeGreaterThanOrEqual(alice.window!.low);
    expect(bob.rating).toBeLessThanOrEqual(alice.window!.high);
    expect(alice.rating).toBeGreaterThanOrEqual(bob.window!.low);
    expect(alice.rating).toBeLessThanOrEqual(bob.window!.high);
  });

  it('colours come from the history (alice had white, so she gets black) with the reason', () => {
    const match = buildQueueMatch({ matchId: 'm-1', poolKey: '3+0:rated', pair: pair!, decidedAt: now });
    expect(match.white.userId).toBe('bob');
    expect(match.black.userId).toBe('alice');
    expect(match.colourReason).toBe('colour-history');
  });

  it('is deterministic: the same pair and match id give the same decision', () => {
    const noHistory = entries.map((e) => ({ ...e, colourHistory: [] }));
    const [p] = pairPool(noHistory, now, defaultPairingConfig).pairs;
    const one = buildQueueMatch({ matchId: 'm-7', poolKey: '3+0:rated', pair: p!, decidedAt: now });
    const two = buildQueueMatch({ matchId: 'm-7', poolKey: '3+0:rated', pair: p!, decidedAt: now });
    expect(one).toEqual(two);
    expect(one.colourReason).toBe('seeded-coin');
  });
});

import type { ProjectedEvent } from '@mm/projections';
import { describe, expect, it } from 'vitest';
import { type BatchChanges, ReadModelFold } from './read-model-fold.js';

/**
 * The last batch's COPY text is made as the write reads it (`cut({ last: true })`): it must be
 * the text a cut made at once gives, rows new to the target and stored rows the batch changed
 * each in their own part.
 */

const pool = { key: '3+0:rated', timeControl: '3+0', mode: 'rated' };
let position = 0;
const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;

const joined = (tenantId: string, user: string, entry: string, second: number): ProjectedEvent =>
  ({
    type: 'QueueJoined',
    tenantId,
    position: position++,
    data: {
      userId: user,
      queueEntryId: entry,
      pool,
      rating: 1500,
      ratingSource: 'default',
      ratingRange: second % 2 === 0 ? null : { min: 1400, max: 1600 },
      enqueuedAt: at(second),
    },
  }) as unknown as ProjectedEvent;

const cancelled = (tenantId: string, user: string, entry: string, second: number): ProjectedEvent =>
  ({
    type: 'QueueCancelled',
    tenantId,
    position: position++,
    data: { userId: user, queueEntryId: entry, reason: 'user', cancelledAt: at(second) },
  }) as unknown as ProjectedEvent;

/** Two batches: the second inserts new entries and changes entries the first one stored. */
function foldTwoBatches(): { fold: ReadModelFold; first: BatchChanges } {
  position = 0;
  const fold = new ReadModelFold({ targetEmpty: true });
  for (let i = 0; i < 5; i++) fold.apply(joined(i % 2 === 0 ? 't1' : 't2', `u${i}`, `e${i}`, i));
  const { changes: first } = fold.cut();
  fold.committed(0);
  fold.apply(cancelled('t1', 'u0', 'e0', 10));
  fold.apply(cancelled('t2', 'u1', 'e1', 11));
  for (let i = 5; i < 8; i++) fold.apply(joined('t1', `u${i}`, `e${i}`, 20 + i));
  return { fold, first };
}

const text = (changes: BatchChanges) => ({
  inserted: [...changes.queueEntries.inserted].join(''),
  updated: [...changes.queueEntries.updated].join(''),
  matches: [...changes.matches.inserted, ...changes.matches.updated].join(''),
});

describe('the last cut of a rebuild', () => {
  it('gives the text of a cut made at once: new rows inserted, changed stored rows updated', () => {
    const eager = foldTwoBatches();
    const lazy = foldTwoBatches();
    expect(text(lazy.first)).toEqual(text(eager.first));
    const made = text(eager.fold.cut().changes);
    const read = text(lazy.fold.cut({ last: true }).changes);
    expect(read).toEqual(made);
    expect(read.inserted.split('\n').filter(Boolean)).toHaveLength(3);
    expect(
      read.updated
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t').slice(0, 2)),
    ).toEqual([
      ['t1', 'e0'],
      ['t2', 'e1'],
    ]);
    expect(read.updated).toContain('\tCANCELLED\t');
    expect(read.matches).toBe('');
  });

  it('makes no text before it is read', () => {
    const { fold } = foldTwoBatches();
    const { changes } = fold.cut({ last: true });
    expect(Array.isArray(changes.queueEntries.inserted)).toBe(false);
    expect([...changes.queueEntries.inserted].join('').split('\n').filter(Boolean)).toHaveLength(3);
    expect([...changes.queueEntries.inserted]).toEqual([]); // read once
  });
});

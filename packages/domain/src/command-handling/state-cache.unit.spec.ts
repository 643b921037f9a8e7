import { makePool, parseEvent, playerStream } from '@mm/contracts';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { describe, expect, it } from 'vitest';
import { fold } from '../decider/decider.js';
import type { PlayerCommand } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import { handleCommand } from './handle-command.js';
import { loadState } from './load-state.js';
import { StateCache, stateCacheFor } from './state-cache.js';

const stream = playerStream('acme', 'alice');
const metadata: EventMetadata = {
  tenantId: 'acme',
  correlationId: 'req-1',
  causationId: null,
  actor: { type: 'user', id: 'alice' },
};
const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, n)).toISOString();
const join = (id: string, n: number): PlayerCommand => ({
  type: 'JoinQueue',
  userId: 'alice',
  queueEntryId: id,
  pool: makePool('3+0', 'rated'),
  rating: 1500,
  ratingSource: 'default',
  ratingRange: null,
  now: at(n),
});
const cancel = (id: string, n: number): PlayerCommand => ({
  type: 'CancelQueueEntry',
  userId: 'alice',
  queueEntryId: id,
  now: at(n),
});

/** Counts the events each readStream returns. */
const counting = (store: EventStore) => {
  const reads: number[] = [];
  const wrapped: EventStore = {
    ...store,
    readStream: async (name, options) => {
      const events = await store.readStream(name, options);
      reads.push(events.length);
      return events;
    },
  };
  return { store: wrapped, reads };
};

const run = (store: EventStore, command: PlayerCommand) =>
  handleCommand({ store, streamName: stream, decider: playerDecider, command, metadata });
/** The same, deciding on the cached state when this process holds one. */
const runCached = (store: EventStore, command: PlayerCommand) =>
  handleCommand({ store, streamName: stream, decider: playerDecider, command, metadata, decideOnCachedState: true });

const fullFold = async (store: EventStore) =>
  fold(
    playerDecider,
    (await store.readStream(stream)).map(
      (e) => parseEvent(e.type, e.schemaVersion, e.data) as Parameters<typeof playerDecider.evolve>[1],
    ),
  );

describe('player state cache', () => {
  it('a command reads only the events appended since the cached revision; the state equals a full fold', async () => {
    const { store, reads } = counting(createMemoryEventStore());
    for (let n = 0; n < 50; n++) {
      await run(store, join(`e${n}`, 2 * n));
      await run(store, cancel(`e${n}`, 2 * n + 1));
    }
    // after the first command of an empty stream, no read returns more than the events since the last one
    expect(Math.max(...reads)).toBeLessThanOrEqual(1);
    const loaded = await loadState(store, stream, playerDecider);
    expect(loaded.revision).toBe(99);
    expect(loaded.events).toEqual([]);
    expect(loaded.state).toEqual(await fullFold(store));
    // `events: 'all'` reads the whole stream
    const all = await loadState(store, stream, playerDecider, { events: 'all' });
    expect(all.events).toHaveLength(100);
    expect(all.state).toEqual(loaded.state);
  });

  it('picks up what another process appended (its own cache) and decides on it', async () => {
    const shared = createMemoryEventStore();
    const a = counting(shared);
    const b = counting(shared); // another process: another store object, another cache
    await run(a.store, join('e1', 0));
    await run(b.store, cancel('e1', 1)); // b has no cached state: reads the stream whole
    expect(b.reads).toEqual([1]);
    // a's cached state is at revision 0: it reads the cancel, then joins again (allowed: e1 ended)
    const again = await run(a.store, join('e2', 2));
    expect(again.ok).toBe(true);
    expect(a.reads.at(-1)).toBe(1);
    const loaded = await loadState(a.store, stream, playerDecider);
    expect(loaded.state.entries.e1?.status).toBe('cancelled');
    expect(loaded.state.activeEntryId).toBe('e2');
    expect(loaded.state).toEqual(await fullFold(shared));
    // a's cached state is behind again (b cancelled e2): a decides on the caught-up state, as a full read would
    await run(b.store, cancel('e2', 3));
    const expected = playerDecider.decide(cancel('e2', 4), await fullFold(shared));
    const cancelAgain = await run(a.store, cancel('e2', 4));
    expect(expected.ok).toBe(false);
    expect(cancelAgain).toEqual(expected);
  });

  it('with decideOnCachedState, decides the next command of a stream this process appended last on the cached state, without reading', async () => {
    const { store, reads } = counting(createMemoryEventStore());
    for (let n = 0; n < 20; n++) {
      const joined = await runCached(store, join(`e${n}`, 2 * n));
      expect(joined.ok && joined.events.map((e) => e.revision)).toEqual([2 * n]);
      const cancelled = await runCached(store, cancel(`e${n}`, 2 * n + 1));
      expect(cancelled.ok && cancelled.events.map((e) => e.revision)).toEqual([2 * n + 1]);
    }
    // one read: the empty stream before the first join
    expect(reads).toEqual([0]);
    // without it, every command reads the stream (the events since the cached revision: none)
    await run(store, join('last', 100));
    expect(reads).toEqual([0, 0]);
    expect((await loadState(store, stream, playerDecider)).state).toEqual(await fullFold(store));
  });

  it('a stale cached state costs a conflicting append and a read, never a wrong decision', async () => {
    const shared = createMemoryEventStore();
    const attempts: string[] = [];
    const a = counting({
      ...shared,
      appendToStream: async (name, events, options) => {
        try {
          const result = await shared.appendToStream(name, events, options);
          attempts.push('appended');
          return result;
        } catch (error) {
          attempts.push((error as Error).name);
          throw error;
        }
      },
    });
    const b = counting(shared); // another process
    await runCached(a.store, join('e1', 0)); // a's cache: e1 searching at revision 0
    await runCached(b.store, cancel('e1', 1));
    await runCached(b.store, join('e2', 2));
    // On a's cached state e1 could be cancelled: the append expects revision 0 and conflicts;
    // a reads the two events it missed and refuses, as a full read would have from the start.
    const expected = playerDecider.decide(cancel('e1', 3), await fullFold(shared));
    expect(expected.ok).toBe(false);
    expect(await runCached(a.store, cancel('e1', 3))).toEqual(expected);
    expect(attempts).toEqual(['appended', 'WrongExpectedRevisionError']);
    expect(a.reads.at(-1)).toBe(2);
    // A refusal decided on a cached state is confirmed by a read before it is answered: a's cache
    // (now at revision 2) knows e2; b cancels it, so on a's cache a new join would be refused.
    await runCached(b.store, cancel('e2', 4));
    const joined = await runCached(a.store, join('e3', 5));
    expect(joined.ok).toBe(true);
    expect(a.reads.at(-1)).toBe(1);
    expect((await loadState(a.store, stream, playerDecider)).state).toEqual(await fullFold(shared));
  });

  it('is per store: two stores with the same stream names never share states', async () => {
    const one = createMemoryEventStore();
    const two = createMemoryEventStore();
    await run(one, join('e1', 0));
    const fromTwo = await loadState(two, stream, playerDecider);
    expect(fromTwo.revision).toBe('no_stream');
    expect(fromTwo.state.activeEntryId).toBeNull();
    expect(stateCacheFor(one, playerDecider)?.size).toBe(1);
  });

  it('keeps the most recently used streams up to its bound, and never goes back to an older revision', () => {
    const cache = new StateCache<string>(2);
    cache.set('s1', 1, 'one');
    cache.set('s2', 1, 'two');
    cache.get('s1');
    cache.set('s3', 1, 'three'); // evicts s2, the least recently used
    expect(cache.get('s2')).toBeUndefined();
    expect(cache.get('s1')?.state).toBe('one');
    cache.set('s1', 0, 'older');
    expect(cache.get('s1')).toEqual({ revision: 1, state: 'one' });
    cache.set('s1', 2, 'newer');
    expect(cache.get('s1')).toEqual({ revision: 2, state: 'newer' });
  });
});

import { EventContractError, makePool, playerStream } from '@mm/contracts';
import type { EventMetadata, EventStore } from '@mm/event-store';
import { createMemoryEventStore } from '@mm/event-store/memory';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Decider } from '../decider/decider.js';
import type { PlayerCommand } from '../player/player-commands.js';
import { playerDecider } from '../player/player-decider.js';
import { handleCommand } from './handle-command.js';
import { loadState } from './load-state.js';

const now = '2026-01-01T10:00:00.000Z';
const stream = playerStream('acme', 'alice');
const metadata: EventMetadata = {
  tenantId: 'acme',
  correlationId: 'req-1',
  causationId: null,
  actor: { type: 'user', id: 'alice' },
};
const join = (queueEntryId: string): PlayerCommand => ({
  type: 'JoinQueue',
  userId: 'alice',
  queueEntryId,
  pool: makePool('3+0', 'rated'),
  rating: 1500,
  ratingSource: 'default',
  ratingRange: null,
  now,
});
const cancel: PlayerCommand = { type: 'CancelQueueEntry', userId: 'alice', queueEntryId: 'e1', now };
const claim: PlayerCommand = {
  type: 'ClaimQueueEntry',
  userId: 'alice',
  queueEntryId: 'e1',
  matchId: 'm1',
  opponent: { userId: 'bob', queueEntryId: 'e-bob', rating: 1510 },
  now,
};

let store: EventStore;
beforeEach(() => {
  store = createMemoryEventStore();
});

const run = (command: PlayerCommand, extra: { eventIds?: string[] } = {}) =>
  handleCommand({ store, streamName: stream, decider: playerDecider, command, metadata, ...extra });

describe('handleCommand', () => {
  it('appends the decided events with metadata and schema version, and returns the new state', async () => {
    const result = await run(join('e1'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.events).toHaveLength(1);
    expect(result.events[0]).toMatchObject({
      streamName: stream,
      revision: 0,
      type: 'QueueJoined',
      schemaVersion: 1,
      metadata,
      data: { queueEntryId: 'e1', enqueuedAt: now },
    });
    expect(result.events[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.nextExpectedRevision).toBe(0);
    expect(result.state.activeEntryId).toBe('e1');
  });

  it('returns a domain error without appending', async () => {
    await run(join('e1'));
    const result = await run(join('e2'));
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'ALREADY_IN_QUEUE' }) });
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('a no-op decision appends nothing and reports the current revision', async () => {
    await run(join('e1'));
    await run(claim);
    const again = await run(claim);
    expect(again).toMatchObject({ ok: true, events: [], nextExpectedRevision: 1 });
    expect(await store.readStream(stream)).toHaveLength(2);
  });

  it('uses the caller’s deterministic event ids', async () => {
    const result = await run(join('e1'), { eventIds: ['11111111-1111-4111-8111-111111111111'] });
    expect(result.ok && result.events[0]!.id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('accepts an id function', async () => {
    const result = await handleCommand({
      store,
      streamName: stream,
      decider: playerDecider,
      command: join('e1'),
      metadata,
      eventIds: (index, event) => `${event.type}-${index}`,
    });
    expect(result.ok && result.events[0]!.id).toBe('QueueJoined-0');
  });

  /** Wraps the store to count appends rejected for a wrong expected revision. */
  const countingConflicts = () => {
    const counter = { conflicts: 0 };
    const wrapped: EventStore = {
      ...store,
      readStream: (name, options) => store.readStream(name, options),
      appendToStream: (name, events, options) =>
        store.appendToStream(name, events, options).catch((error: unknown) => {
          if ((error as { code?: string }).code === 'WRONG_EXPECTED_REVISION') counter.conflicts++;
          throw error;
        }),
    };
    return { wrapped, counter };
  };

  it('re-reads and re-decides when the stream moved between read and append', async () => {
    let raced = false;
    const racing: EventStore = {
      ...store,
      readStream: (name, options) => store.readStream(name, options),
      appendToStream: async (name, events, options) => {
        if (!raced) {
          raced = true; // another API instance gets its join in first
          await handleCommand({ store, streamName: name, decider: playerDecider, command: join('e0'), metadata });
        }
        return store.appendToStream(name, events, options);
      },
    };
    const result = await handleCommand({
      store: racing,
      streamName: stream,
      decider: playerDecider,
      command: join('e1'),
      metadata,
    });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'ALREADY_IN_QUEUE', message: expect.stringContaining('e0') },
    });
    expect((await store.readStream(stream)).map((e) => e.data)).toEqual([
      expect.objectContaining({ queueEntryId: 'e0' }),
    ]);
  });

  it('concurrent double join → exactly one QueueJoined, the other gets ALREADY_IN_QUEUE (I1)', async () => {
    const { wrapped, counter } = countingConflicts();
    const results = await Promise.all(
      ['e1', 'e2'].map((id) =>
        handleCommand({ store: wrapped, streamName: stream, decider: playerDecider, command: join(id), metadata }),
      ),
    );
    expect(counter.conflicts).toBe(1); // both read an empty stream: the race really happened
    const events = await store.readStream(stream);
    expect(events.map((e) => e.type)).toEqual(['QueueJoined']);
    const failures = results.filter((r) => !r.ok);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ error: { code: 'ALREADY_IN_QUEUE' } });
  });

  it('many concurrent joins still produce exactly one entry', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run(join(`e${i}`))));
    expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['QueueJoined']);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('claim vs cancel racing on the same stream → exactly one wins (I3)', async () => {
    await run(join('e1'));
    const { wrapped, counter } = countingConflicts();
    const on = (command: PlayerCommand) =>
      handleCommand({ store: wrapped, streamName: stream, decider: playerDecider, command, metadata });
    const [claimed, cancelled] = await Promise.all([on(claim), on(cancel)]);
    expect(counter.conflicts).toBe(1);
    const types = (await store.readStream(stream)).map((e) => e.type);
    expect(types).toHaveLength(2);
    if (types[1] === 'QueueEntryMatched') {
      expect(claimed.ok).toBe(true);
      expect(cancelled).toMatchObject({ ok: false, error: { code: 'CANNOT_CANCEL' } });
    } else {
      expect(types[1]).toBe('QueueCancelled');
      expect(cancelled.ok).toBe(true);
      expect(claimed).toMatchObject({ ok: false, error: { code: 'ENTRY_NOT_SEARCHING' } });
    }
  });

  it('validates event data against the contracts before appending', async () => {
    const broken: Decider<null, null> = {
      initialState: () => null,
      evolve: (state) => state,
      decide: () => ({
        ok: true,
        events: [{ type: 'GameCreated', data: { matchId: 'm1', gameId: '', createdAt: 'yesterday' } }],
      }),
    };
    await expect(
      handleCommand({ store, streamName: 'match-m1', decider: broken, command: null, metadata }),
    ).rejects.toThrow();
    expect(await store.readStream('match-m1')).toEqual([]);
  });

  it('gives up after maxAttempts conflicts and throws the conflict', async () => {
    let appends = 0;
    const alwaysConflicting: EventStore = {
      ...store,
      readStream: (name, options) => store.readStream(name, options),
      appendToStream: async (name) => {
        appends++;
        throw Object.assign(new Error(`stream ${name}: wrong expected revision`), { code: 'WRONG_EXPECTED_REVISION' });
      },
    };
    await expect(
      handleCommand({
        store: alwaysConflicting,
        streamName: stream,
        decider: playerDecider,
        command: join('e1'),
        metadata,
        retry: { maxAttempts: 3, baseDelayMs: 1 },
      }),
    ).rejects.toMatchObject({ code: 'WRONG_EXPECTED_REVISION' });
    expect(appends).toBe(3);
  });
});

describe('loadState', () => {
  it('folds the stream and reports its revision', async () => {
    expect(await loadState(store, stream, playerDecider)).toMatchObject({ revision: 'no_stream', events: [] });
    await run(join('e1'));
    await run(cancel);
    const loaded = await loadState(store, stream, playerDecider);
    expect(loaded.revision).toBe(1);
    expect(loaded.state.entries.e1?.status).toBe('cancelled');
  });

  it('refuses events that do not satisfy the contracts', async () => {
    await store.appendToStream(stream, [{ id: 'x', type: 'QueueJoined', data: { nope: true }, metadata }]);
    await expect(loadState(store, stream, playerDecider)).rejects.toBeInstanceOf(EventContractError);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.js';
import type { EventData, EventStore, RecordedEvent, SubscribeOptions, Subscription } from '../types.js';

export interface EventStoreUnderTest {
  store: EventStore;
  teardown(): Promise<void>;
}

/**
 * Creates a fresh store for one test. Stores may share a database between tests: every test
 * uses its own random stream category and reads the global log only through that category or
 * from positions it recorded itself, so the suite never assumes an empty log.
 */
export type EventStoreFactory = () => Promise<EventStoreUnderTest>;

const metadata = {
  tenantId: 't1',
  correlationId: 'corr-1',
  causationId: null,
  actor: { type: 'user', id: 'u1' },
} as const;

/** An event with ~300 bytes of data. */
export const sampleEvent = (type = 'SomethingHappened', data: Record<string, unknown> = {}): EventData => ({
  id: randomUUID(),
  type,
  data: { ...data, note: randomBytes(110).toString('hex').slice(0, 220) },
  metadata: { ...metadata, actor: { ...metadata.actor } },
});

const newCategory = () => `c${randomBytes(5).toString('hex')}`;

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/** Polls until `check` passes or the timeout elapses (then the last failure is thrown). */
export const eventually = async (check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
};

/** Reads the whole (filtered) log after `after`, page by page. */
export const readAllPages = async (
  store: EventStore,
  options: { after?: number; filter?: SubscribeOptions['filter']; pageSize?: number },
): Promise<RecordedEvent[]> => {
  const result: RecordedEvent[] = [];
  let after = options.after ?? -1;
  for (;;) {
    const page = await store.readAll({ after, maxCount: options.pageSize ?? 1000, filter: options.filter });
    result.push(...page);
    if (page.length < (options.pageSize ?? 1000)) return result;
    after = page[page.length - 1]!.position;
  }
};

const expectStrictlyIncreasing = (positions: number[]) => {
  for (let index = 1; index < positions.length; index++) {
    if (!(positions[index]! > positions[index - 1]!))
      throw new Error(
        `positions not strictly increasing at ${index}: ${positions[index - 1]} then ${positions[index]}`,
      );
  }
};

const captureError = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

export interface EventStoreContractOptions {
  /**
   * Where an event id is unique. `global`: an id stored in any stream conflicts, and so does any
   * overlap with stored ids (postgres, memory). `stream`: ids are idempotency keys of their stream
   * only, as in EventStoreDB — the same id in another stream, or a new event followed by a stored
   * one, is written again; a stored id followed by new ones still conflicts.
   * @defaultValue 'global'
   */
  eventIdScope?: 'global' | 'stream';
  /**
   * Whether the adapter offers the optional `appendToStreams` (one transaction over several
   * streams). The suite checks the declaration both ways, and the multi-stream tests run when true.
   * @defaultValue false
   */
  multiStreamAppend?: boolean;
}

/**
 * The executable definition of the {@link EventStore} port. Run it against every adapter:
 * `describeEventStoreContract('postgres', async () => ({ store, teardown }))`.
 * Positions are only compared for order, never assumed dense or starting anywhere.
 */
export function describeEventStoreContract(
  name: string,
  factory: EventStoreFactory,
  options: EventStoreContractOptions = {},
): void {
  const globalIds = (options.eventIdScope ?? 'global') === 'global';
  const multiStream = options.multiStreamAppend ?? false;
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let teardown: () => Promise<void>;
    let category: string;
    const subscriptions: Subscription[] = [];
    const stream = (id: string) => `${category}-${id}`;
    const follow = (options: SubscribeOptions) => {
      const subscription = store.subscribeToAll(options);
      subscriptions.push(subscription);
      return subscription;
    };

    beforeEach(async () => {
      ({ store, teardown } = await factory());
      category = newCategory();
    });

    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
      await teardown();
    });

    describe('appendToStream with an expected revision', () => {
      it('no_stream: succeeds on a new stream, conflicts on an existing one with the actual revision', async () => {
        const first = await store.appendToStream(stream('a'), [sampleEvent(), sampleEvent()], {
          expectedRevision: 'no_stream',
        });
        expect(first.nextExpectedRevision).toBe(1);
        const error = await captureError(
          store.appendToStream(stream('a'), [sampleEvent()], { expectedRevision: 'no_stream' }),
        );
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({
          code: 'WRONG_EXPECTED_REVISION',
          streamName: stream('a'),
          expected: 'no_stream',
          actual: 1,
        });
      });

      it('stream_exists: conflicts on a missing stream (actual no_stream), succeeds on an existing one', async () => {
        const error = await captureError(
          store.appendToStream(stream('b'), [sampleEvent()], { expectedRevision: 'stream_exists' }),
        );
        expect(error).toMatchObject({
          code: 'WRONG_EXPECTED_REVISION',
          expected: 'stream_exists',
          actual: 'no_stream',
        });
        expect(await store.streamRevision(stream('b'))).toBe('no_stream');
        await store.appendToStream(stream('b'), [sampleEvent()]);
        const result = await store.appendToStream(stream('b'), [sampleEvent()], { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('exact revision: succeeds when it matches, conflicts with expected and actual otherwise', async () => {
        const first = await store.appendToStream(stream('c'), [sampleEvent()], { expectedRevision: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(0);
        const second = await store.appendToStream(stream('c'), [sampleEvent(), sampleEvent()], {
          expectedRevision: first.nextExpectedRevision,
        });
        expect(second.nextExpectedRevision).toBe(2);
        expect(second.position).toBeGreaterThan(first.position);
        for (const stale of [0, 1, 5]) {
          const error = await captureError(
            store.appendToStream(stream('c'), [sampleEvent()], { expectedRevision: stale }),
          );
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ streamName: stream('c'), expected: stale, actual: 2 });
        }
        const missing = await captureError(
          store.appendToStream(stream('none'), [sampleEvent()], { expectedRevision: 0 }),
        );
        expect(missing).toMatchObject({ expected: 0, actual: 'no_stream' });
        expect(await store.streamRevision(stream('c'))).toBe(2);
      });

      it('any (the default): appends whatever the stream state', async () => {
        expect((await store.appendToStream(stream('d'), [sampleEvent()])).nextExpectedRevision).toBe(0);
        const result = await store.appendToStream(stream('d'), [sampleEvent()], { expectedRevision: 'any' });
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('rejects an empty append', async () => {
        await expect(store.appendToStream(stream('e'), [])).rejects.toThrow();
      });

      it('stores every envelope field and returns extra metadata keys untouched', async () => {
        const event: EventData = {
          id: randomUUID(),
          type: 'QueueJoined',
          schemaVersion: 3,
          data: { nested: { list: [1, 'two', null, true] }, unicode: 'é✓' },
          metadata: {
            tenantId: 't9',
            correlationId: 'corr-9',
            causationId: 'cause-9',
            actor: { type: 'service', id: 'pairing' },
            extra: 'kept',
          },
        };
        const before = Date.now();
        const result = await store.appendToStream(stream('f'), [event]);
        const [read] = await store.readStream(stream('f'));
        expect(read).toMatchObject({
          id: event.id,
          streamName: stream('f'),
          revision: 0,
          position: result.position,
          type: 'QueueJoined',
          schemaVersion: 3,
          data: event.data,
          metadata: event.metadata,
        });
        expect(read!.recordedAt).toBeInstanceOf(Date);
        expect(read!.recordedAt.getTime()).toBeGreaterThan(before - 60_000);
        const [defaulted] = await store.readStream(stream('f2'), {}).then(async () => {
          await store.appendToStream(stream('f2'), [sampleEvent()]);
          return store.readStream(stream('f2'));
        });
        expect(defaulted!.schemaVersion).toBe(1);
      });
    });

    it(`appendToStreams is ${multiStream ? 'offered' : 'not offered'}, as the adapter declares`, () => {
      expect(typeof store.appendToStreams).toBe(multiStream ? 'function' : 'undefined');
    });

    describe.runIf(multiStream)('appendToStreams (one transaction over several streams)', () => {
      const appendMany: NonNullable<EventStore['appendToStreams']> = (appends) => store.appendToStreams!(appends);

      it('appends to every stream, each at its expected revision, with increasing positions', async () => {
        await store.appendToStream(stream('m1'), [sampleEvent()]);
        const parts = [
          { streamName: stream('m1'), events: [sampleEvent('A')], expectedRevision: 0 },
          {
            streamName: stream('m2'),
            events: [sampleEvent('B'), sampleEvent('C')],
            expectedRevision: 'no_stream' as const,
          },
          { streamName: stream('m3'), events: [sampleEvent('D')] },
        ];
        const results = await appendMany(parts);
        expect(results.map((result) => result.nextExpectedRevision)).toEqual([1, 1, 0]);
        expectStrictlyIncreasing(results.map((result) => result.position));
        const log = await readAllPages(store, { filter: { categories: [category] } });
        expect(log.map((event) => event.type)).toEqual(['SomethingHappened', 'A', 'B', 'C', 'D']);
        expect(log.slice(1).map((event) => [event.streamName, event.revision])).toEqual([
          [stream('m1'), 1],
          [stream('m2'), 0],
          [stream('m2'), 1],
          [stream('m3'), 0],
        ]);
        expect(results.map((result) => result.position)).toEqual([
          log[1]!.position,
          log[3]!.position,
          log[4]!.position,
        ]);
      });

      it('all or nothing: one stale part fails the whole append, naming its stream, and nothing is written', async () => {
        await store.appendToStream(stream('n2'), [sampleEvent(), sampleEvent()]);
        const error = await captureError(
          appendMany([
            { streamName: stream('n1'), events: [sampleEvent()], expectedRevision: 'no_stream' },
            { streamName: stream('n2'), events: [sampleEvent()], expectedRevision: 0 },
            { streamName: stream('n3'), events: [sampleEvent()], expectedRevision: 'no_stream' },
          ]),
        );
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamName: stream('n2'), expected: 0, actual: 1 });
        expect(await store.streamRevision(stream('n1'))).toBe('no_stream');
        expect(await store.streamRevision(stream('n2'))).toBe(1);
        expect(await store.streamRevision(stream('n3'))).toBe('no_stream');
      });

      it('a re-send returns the original results without duplicating; a different append at the same revisions conflicts', async () => {
        const parts = [
          { streamName: stream('r1'), events: [sampleEvent()], expectedRevision: 'no_stream' as const },
          { streamName: stream('r2'), events: [sampleEvent()], expectedRevision: 'no_stream' as const },
        ];
        const original = await appendMany(parts);
        expect(await appendMany(parts)).toEqual(original);
        expect(await store.readStream(stream('r1'))).toHaveLength(1);
        const other = await captureError(
          appendMany([
            { streamName: stream('r1'), events: [sampleEvent()], expectedRevision: 'no_stream' },
            { streamName: stream('r3'), events: [sampleEvent()], expectedRevision: 'no_stream' },
          ]),
        );
        expect(other).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', streamName: stream('r1') });
        expect(await store.streamRevision(stream('r3'))).toBe('no_stream');
      });

      it('rejects an empty append, an empty part and a stream named twice', async () => {
        await expect(appendMany([])).rejects.toThrow();
        await expect(appendMany([{ streamName: stream('x'), events: [] }])).rejects.toThrow();
        await expect(
          appendMany([
            { streamName: stream('x'), events: [sampleEvent()] },
            { streamName: stream('x'), events: [sampleEvent()] },
          ]),
        ).rejects.toThrow(/twice/);
        expect(await store.streamRevision(stream('x'))).toBe('no_stream');
      });

      it('racing appends that share a stream at the same revision: exactly one commits, entirely', async () => {
        const racers = 10;
        const outcomes = await Promise.allSettled(
          Array.from({ length: racers }, (_, racer) =>
            appendMany([
              { streamName: stream('own'), events: [sampleEvent('Own', { racer })], expectedRevision: 'any' },
              { streamName: stream('contended'), events: [sampleEvent()], expectedRevision: 'no_stream' },
              { streamName: stream(`private${racer}`), events: [sampleEvent()], expectedRevision: 'no_stream' },
            ]),
          ),
        );
        const winners = outcomes.flatMap((outcome, racer) => (outcome.status === 'fulfilled' ? [racer] : []));
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes)
          if (outcome.status === 'rejected')
            expect(outcome.reason).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', streamName: stream('contended') });
        const own = await store.readStream(stream('own'));
        expect(own.map((event) => (event.data as { racer: number }).racer)).toEqual(winners);
        for (let racer = 0; racer < racers; racer++)
          expect(await store.streamRevision(stream(`private${racer}`))).toBe(winners.includes(racer) ? 0 : 'no_stream');
      });
    });

    describe('idempotency by event id', () => {
      it('re-sending the same events returns the original result without duplicating them', async () => {
        const events = [sampleEvent(), sampleEvent()];
        const original = await store.appendToStream(stream('i'), events, { expectedRevision: 'no_stream' });
        await store.appendToStream(stream('i'), [sampleEvent()], { expectedRevision: 1 });
        const again = await store.appendToStream(stream('i'), events, { expectedRevision: 'no_stream' });
        expect(again).toEqual(original);
        const anyAgain = await store.appendToStream(stream('i'), events);
        expect(anyAgain).toEqual(original);
        expect((await store.readStream(stream('i'))).map((event) => event.id)).toEqual([
          events[0]!.id,
          events[1]!.id,
          expect.any(String),
        ]);
        const inLog = await readAllPages(store, { filter: { categories: [category] } });
        expect(inLog).toHaveLength(3);
      });

      it.skipIf(!globalIds)('the same id in another stream is an EVENT_ID_CONFLICT', async () => {
        const event = sampleEvent();
        await store.appendToStream(stream('j1'), [event]);
        const error = await captureError(store.appendToStream(stream('j2'), [event]));
        expect(error).toBeInstanceOf(EventIdConflictError);
        expect(error).toMatchObject({ code: 'EVENT_ID_CONFLICT', streamName: stream('j2') });
        expect(await store.streamRevision(stream('j2'))).toBe('no_stream');
      });

      it('a partial overlap (one stored id plus new ones) is an EVENT_ID_CONFLICT and stores nothing', async () => {
        const stored = sampleEvent();
        await store.appendToStream(stream('k'), [stored]);
        if (globalIds) {
          const error = await captureError(store.appendToStream(stream('k'), [sampleEvent(), stored]));
          expect(error).toMatchObject({ code: 'EVENT_ID_CONFLICT' });
        }
        const other = await captureError(store.appendToStream(stream('k'), [stored, sampleEvent()]));
        expect(other).toMatchObject({ code: 'EVENT_ID_CONFLICT' });
        expect(await store.streamRevision(stream('k'))).toBe(0);
      });
    });

    describe('readStream', () => {
      const fill = async () => {
        const events = Array.from({ length: 5 }, (_, index) => sampleEvent('Numbered', { index }));
        await store.appendToStream(stream('r'), events.slice(0, 2));
        await store.appendToStream(stream('r'), events.slice(2));
        return events.map((event) => event.id);
      };

      it('reads forwards from the start, from a revision, with maxCount', async () => {
        const ids = await fill();
        const all = await store.readStream(stream('r'));
        expect(all.map((event) => event.id)).toEqual(ids);
        expect(all.map((event) => event.revision)).toEqual([0, 1, 2, 3, 4]);
        expectStrictlyIncreasing(all.map((event) => event.position));
        const from = await store.readStream(stream('r'), { fromRevision: 2, maxCount: 2 });
        expect(from.map((event) => event.revision)).toEqual([2, 3]);
        expect(await store.readStream(stream('r'), { fromRevision: 5 })).toEqual([]);
      });

      it('reads backwards from the end or from a revision, with maxCount', async () => {
        await fill();
        const backwards = await store.readStream(stream('r'), { direction: 'backwards' });
        expect(backwards.map((event) => event.revision)).toEqual([4, 3, 2, 1, 0]);
        const some = await store.readStream(stream('r'), { direction: 'backwards', fromRevision: 3, maxCount: 2 });
        expect(some.map((event) => event.revision)).toEqual([3, 2]);
        const last = await store.readStream(stream('r'), { direction: 'backwards', maxCount: 1 });
        expect(last.map((event) => event.revision)).toEqual([4]);
      });

      it('reads a missing stream as empty', async () => {
        expect(await store.readStream(stream('missing'))).toEqual([]);
        expect(await store.readStream(stream('missing'), { direction: 'backwards' })).toEqual([]);
        expect(await store.streamRevision(stream('missing'))).toBe('no_stream');
      });
    });

    describe('readAll', () => {
      it('returns events in append order with strictly increasing positions, from `after`, with maxCount', async () => {
        const appended: string[] = [];
        for (const id of ['x', 'y', 'x', 'z', 'y']) {
          const event = sampleEvent();
          appended.push(event.id);
          await store.appendToStream(stream(id), [event]);
        }
        const all = await store.readAll({ filter: { categories: [category] } });
        expect(all.map((event) => event.id)).toEqual(appended);
        expectStrictlyIncreasing(all.map((event) => event.position));
        const afterSecond = await store.readAll({ after: all[1]!.position, filter: { categories: [category] } });
        expect(afterSecond.map((event) => event.id)).toEqual(appended.slice(2));
        const limited = await store.readAll({
          after: all[0]!.position,
          maxCount: 2,
          filter: { categories: [category] },
        });
        expect(limited.map((event) => event.id)).toEqual(appended.slice(1, 3));
        const unfiltered = await store.readAll({ after: all[0]!.position - 1, maxCount: 1 });
        expect(unfiltered[0]!.id).toBe(appended[0]);
      });

      it('filters by category and by event type (both given: both must match)', async () => {
        const other = newCategory();
        await store.appendToStream(stream('1'), [sampleEvent('A')]);
        await store.appendToStream(`${other}-1`, [sampleEvent('A')]);
        await store.appendToStream(stream('2'), [sampleEvent('B')]);
        await store.appendToStream(`${other}-2`, [sampleEvent('B')]);
        await store.appendToStream(category, [sampleEvent('A')]); // a stream name without '-' is its own category
        const mine = await store.readAll({ filter: { categories: [category] } });
        expect(mine.map((event) => [event.streamName, event.type])).toEqual([
          [stream('1'), 'A'],
          [stream('2'), 'B'],
          [category, 'A'],
        ]);
        const both = await store.readAll({ filter: { categories: [category, other] } });
        expect(both).toHaveLength(5);
        const typeB = await store.readAll({ filter: { categories: [category, other], eventTypes: ['B'] } });
        expect(typeB.map((event) => event.streamName)).toEqual([stream('2'), `${other}-2`]);
        const start = mine[0]!.position - 1;
        const byTypeOnly = await store.readAll({ after: start, filter: { eventTypes: ['B'] } });
        expect(byTypeOnly.map((event) => event.streamName)).toEqual(
          expect.arrayContaining([stream('2'), `${other}-2`]),
        );
        expect(byTypeOnly.every((event) => event.type === 'B')).toBe(true);
      });

      it('filters by tenant (metadata.tenantId), alone and with the other filters, in reads and subscriptions', async () => {
        const tenantA = `ta${randomBytes(4).toString('hex')}`;
        const tenantB = `tb${randomBytes(4).toString('hex')}`;
        const of = (tenantId: string, type: string): EventData => {
          const event = sampleEvent(type);
          return { ...event, metadata: { ...event.metadata, tenantId } };
        };
        await store.appendToStream(stream('1'), [of(tenantA, 'A'), of(tenantB, 'A')]);
        await store.appendToStream(stream('2'), [of(tenantB, 'B'), of(tenantA, 'B')]);
        const a = await store.readAll({ filter: { tenantId: tenantA } });
        expect(a.map((event) => [event.streamName, event.type, event.metadata.tenantId])).toEqual([
          [stream('1'), 'A', tenantA],
          [stream('2'), 'B', tenantA],
        ]);
        const bTypeB = await store.readAll({
          filter: { tenantId: tenantB, categories: [category], eventTypes: ['B'] },
        });
        expect(bTypeB.map((event) => event.metadata.tenantId)).toEqual([tenantB]);
        expect(await store.readAll({ filter: { tenantId: tenantA, categories: [newCategory()] } })).toEqual([]);
        const seen: string[] = [];
        const subscription = follow({
          filter: { tenantId: tenantB },
          handler: (event) => {
            seen.push(`${event.type}:${event.metadata.tenantId}`);
          },
        });
        await subscription.caughtUp;
        expect(seen).toEqual([`A:${tenantB}`, `B:${tenantB}`]);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up on history, resolves caughtUp, then delivers live events in order', async () => {
        const history = [sampleEvent(), sampleEvent(), sampleEvent()];
        for (const event of history) await store.appendToStream(stream('s'), [event]);
        const seen: RecordedEvent[] = [];
        const subscription = follow({
          filter: { categories: [category] },
          handler: (event) => void seen.push(event),
          batchSize: 2,
        });
        await subscription.caughtUp;
        expect(seen.map((event) => event.id)).toEqual(history.map((event) => event.id));
        const live = [sampleEvent(), sampleEvent()];
        await store.appendToStream(stream('s'), [live[0]!]);
        await store.appendToStream(stream('t'), [live[1]!]);
        await eventually(() => expect(seen).toHaveLength(5));
        expect(seen.map((event) => event.id)).toEqual([...history, ...live].map((event) => event.id));
        expectStrictlyIncreasing(seen.map((event) => event.position));
        expect(subscription.lastPosition).toBe(seen[4]!.position);
      });

      it('resolves caughtUp at once on an empty category and starts strictly after `after`', async () => {
        const empty = follow({ filter: { categories: [newCategory()] }, handler: () => undefined });
        await empty.caughtUp;
        const first = await store.appendToStream(stream('a'), [sampleEvent()]);
        const second = sampleEvent();
        await store.appendToStream(stream('a'), [second]);
        const seen: RecordedEvent[] = [];
        const subscription = follow({
          after: first.position,
          filter: { categories: [category] },
          handler: (e) => void seen.push(e),
        });
        expect(subscription.lastPosition).toBe(first.position);
        await subscription.caughtUp;
        expect(seen.map((event) => event.id)).toEqual([second.id]);
      });

      it('calls the handler sequentially, and close() waits for the in-flight handler', async () => {
        await store.appendToStream(stream('h'), [sampleEvent(), sampleEvent()]);
        const release = deferred();
        const entered = deferred();
        let running = 0;
        let maxRunning = 0;
        let calls = 0;
        let finished = false;
        const subscription = follow({
          filter: { categories: [category] },
          handler: async () => {
            calls++;
            running++;
            maxRunning = Math.max(maxRunning, running);
            entered.resolve();
            await release.promise;
            running--;
            finished = true;
          },
        });
        await entered.promise;
        let closed = false;
        const closing = subscription.close().then(() => {
          closed = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(closed).toBe(false);
        release.resolve();
        await closing;
        expect(finished).toBe(true);
        expect(maxRunning).toBe(1);
        expect(calls).toBe(1); // closed while handling the first event: the second is not delivered
        await subscription.done;
        await expect(subscription.caughtUp).rejects.toMatchObject({ code: 'SUBSCRIPTION_CLOSED' });
      });

      it('stops and reports through onError when the handler throws', async () => {
        await store.appendToStream(stream('e'), [sampleEvent(), sampleEvent(), sampleEvent()]);
        const failure = new Error('handler failed');
        const errors: unknown[] = [];
        let calls = 0;
        const subscription = follow({
          filter: { categories: [category] },
          handler: () => {
            calls++;
            if (calls === 2) throw failure;
          },
          onError: (error) => errors.push(error),
        });
        await subscription.done;
        expect(errors).toEqual([failure]);
        expect(calls).toBe(2);
        await store.appendToStream(stream('e'), [sampleEvent()]);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(calls).toBe(2);
      });

      it('restarts from a checkpoint: at least once, deduplicated by position, nothing lost', async () => {
        const all = Array.from({ length: 10 }, () => sampleEvent());
        for (const event of all.slice(0, 6)) await store.appendToStream(stream('cp'), [event]);
        const handled = new Map<number, string>();
        let deliveries = 0;
        const handler = (event: RecordedEvent) => {
          deliveries++;
          handled.set(event.position, event.id);
        };
        const first = follow({ filter: { categories: [category] }, handler, batchSize: 4 });
        await first.caughtUp;
        await first.close();
        const checkpoint = [...handled.keys()].sort((a, b) => a - b)[3]!; // an older checkpoint than lastPosition
        for (const event of all.slice(6)) await store.appendToStream(stream('cp'), [event]);
        const second = follow({ after: checkpoint, filter: { categories: [category] }, handler, batchSize: 4 });
        await second.caughtUp;
        await eventually(() => expect(handled.size).toBe(10));
        expect(deliveries).toBeGreaterThan(10);
        const positions = [...handled.keys()].sort((a, b) => a - b);
        expect(positions.map((position) => handled.get(position))).toEqual(all.map((event) => event.id));
      });
    });

    describe('concurrency', () => {
      it('8 concurrent writers × 1000 appends: a live subscriber gets every event exactly once, in order', async () => {
        const writers = 8;
        const appendsPerWriter = 1000;
        const received: RecordedEvent[] = [];
        const subscription = follow({
          filter: { categories: [category] },
          handler: (event) => void received.push(event),
        });
        await subscription.caughtUp;
        const written = new Set<string>();
        await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            let revision: number | 'no_stream' = 'no_stream';
            for (let index = 0; index < appendsPerWriter; index++) {
              const event = sampleEvent('Written', { writer, index });
              written.add(event.id);
              if (index % 10 === 9) {
                await store.appendToStream(stream('shared'), [event], { expectedRevision: 'any' });
              } else {
                const result = await store.appendToStream(stream(`w${writer}`), [event], {
                  expectedRevision: revision,
                });
                revision = result.nextExpectedRevision;
              }
            }
          }),
        );
        const total = writers * appendsPerWriter;
        await eventually(() => expect(received.length).toBeGreaterThanOrEqual(total), 30_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(received).toHaveLength(total);
        expectStrictlyIncreasing(received.map((event) => event.position));
        expect(new Set(received.map((event) => event.id))).toEqual(written);
        const log = await readAllPages(store, { filter: { categories: [category] } });
        expect(log.map((event) => event.position)).toEqual(received.map((event) => event.position));
        expect(await store.streamRevision(stream('shared'))).toBe(writers * (appendsPerWriter / 10) - 1);
        const sharedRevisions = (await store.readStream(stream('shared'))).map((event) => event.revision);
        expect(sharedRevisions).toEqual(sharedRevisions.map((_, index) => index));
      }, 180_000); // 8,000 durable commits: generous for a loaded CI machine

      it('concurrent appends at the same expected revision: exactly one wins, the rest see the actual revision', async () => {
        const racers = 20;
        let expected = (await store.appendToStream(stream('race'), [sampleEvent()])).nextExpectedRevision;
        for (let round = 0; round < 5; round++) {
          const outcomes = await Promise.allSettled(
            Array.from({ length: racers }, () =>
              store.appendToStream(stream('race'), [sampleEvent()], { expectedRevision: expected }),
            ),
          );
          const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
          expect(winners).toHaveLength(1);
          for (const outcome of outcomes) {
            if (outcome.status === 'rejected') {
              expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
              expect(outcome.reason).toMatchObject({ expected, actual: expected + 1 });
            }
          }
          expected += 1;
          expect(await store.streamRevision(stream('race'))).toBe(expected);
        }
        expect(await store.readStream(stream('race'))).toHaveLength(6);
      }, 60_000);

      it('concurrent re-sends of the same append store it once', async () => {
        const events = [sampleEvent(), sampleEvent()];
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.appendToStream(stream('dup'), events, { expectedRevision: 'no_stream' }),
          ),
        );
        expect(new Set(outcomes.map((outcome) => outcome.position)).size).toBe(1);
        expect(await store.readStream(stream('dup'))).toHaveLength(2);
      });
    });

    it('ping() succeeds on an open store', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

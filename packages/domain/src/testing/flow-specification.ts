import type { Pool } from '@mm/contracts';
import type { EventStore, RecordedEvent } from '@mm/event-store';
import type { PlayerCommand } from '../player/player-commands.js';

/** What a flow did: its result, and every event appended to the store while it ran (log order). */
export interface FlowRun<Result> {
  result: Result;
  events: RecordedEvent[];
}

/**
 * Given/when/then for multi-stream flows, against a real store (usually the in-memory one):
 *
 * ```ts
 * const spec = flowSpec(store);
 * await spec.given(() => join('alice', 'e-a'), () => join('bob', 'e-b'));
 * const { result, events } = await spec.when(() => commitQueueMatch(context, pair));
 * expect(result).toEqual({ outcome: 'matched', matchId });
 * expect(summary(events)).toEqual([[playerStream(t, 'alice'), 'QueueEntryMatched'], …]);
 * ```
 *
 * `given` runs its steps in order (commands or flows that write the history); `when` records the
 * global position before the flow and returns what was appended after it, so "then exactly these
 * events" includes anything a race injected while the flow ran.
 */
export const flowSpec = (store: EventStore) => ({
  async given(...steps: (() => Promise<unknown>)[]): Promise<void> {
    for (const step of steps) await step();
  },
  async when<Result>(flow: () => Promise<Result>): Promise<FlowRun<Result>> {
    const before = await lastPosition(store);
    const result = await flow();
    return { result, events: await store.readAll({ after: before, maxCount: 10_000 }) };
  },
});

const lastPosition = async (store: EventStore): Promise<number> => {
  let position = -1;
  for (;;) {
    const page = await store.readAll({ after: position, maxCount: 1000 });
    if (page.length === 0) return position;
    position = page.at(-1)!.position;
  }
};

/** `[stream, type]` of each event, for "then exactly these events". */
export const streamsAndTypes = (events: readonly RecordedEvent[]): [string, string][] =>
  events.map((event) => [event.streamName, event.type]);

/** One side's join as the flows' tests give it: its rating from rating-api, no rating range. */
export const joinCommandOf = (
  side: { userId: string; queueEntryId: string; rating: number },
  pool: Pool,
  now: string,
): PlayerCommand => ({
  type: 'JoinQueue',
  userId: side.userId,
  queueEntryId: side.queueEntryId,
  pool,
  rating: side.rating,
  ratingSource: 'rating-api',
  ratingRange: null,
  now,
});

import { matchStream, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import { json } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchWith, ofType, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';

let stack: WorkerStack;
beforeAll(async () => {
  stack = await startWorkerStack({ MAX_QUEUE_TIME_SECONDS: '3' });
  await stack.startWorkers();
});
afterAll(async () => {
  await stack?.stop();
});

const entry = async (userId: string, entryId: string) =>
  (await loadState(stack.store, playerStream(TENANT, userId), playerDecider)).state.entries[entryId]!;

describe('game creation and timeouts', () => {
  it('permanent live-game failure (retries exhausted) → MatchAborted, both players searching again with their original enqueue time', async () => {
    const original = stack.liveGame.handle;
    // live-game-api calls by match id: the released players may be paired again (and call
    // again) before the test looks, so only the first match's calls are counted
    const calls = new Map<string, number>();
    stack.liveGame.handle = (req, res) => {
      const matchId = (req.body as { metadata?: { match_id?: string } } | null)?.metadata?.match_id ?? '';
      calls.set(matchId, (calls.get(matchId) ?? 0) + 1);
      json(res, 503, { detail: 'down' });
    };
    const e1 = await stack.join('ab1', 1500);
    const e2 = await stack.join('ab2', 1500);
    // biome-ignore lint/suspicious/noExplicitAny: event data read loosely
    let released: { a: { enqueuedAt: string }; b: { enqueuedAt: string }; releases: { data: any }[] };
    try {
      const [t1, t2] = [(await entry('ab1', e1)).enqueuedAt, (await entry('ab2', e2)).enqueuedAt];
      const aborted = await stack.until(async () => ofType(await stack.events(), 'MatchAborted')[0], 'MatchAborted');
      expect(aborted.data).toMatchObject({ reason: 'game_creation_failed', attempts: 3 });
      expect(calls.get(aborted.data.matchId)).toBe(3); // GAME_CREATION_ATTEMPTS
      const matchEvents = await stack.store.readStream(matchStream(aborted.data.matchId));
      expect(matchEvents.map((e) => e.type)).toEqual(['MatchCreated', 'MatchAborted']);
      released = await stack.until(async () => {
        const [a, b] = [await entry('ab1', e1), await entry('ab2', e2)];
        const events = await stack.events();
        const releases = ofType(events, 'QueueEntryReleased').filter((e) => e.data.matchId === aborted.data.matchId);
        return releases.length === 2 && { a, b, releases };
      }, 'both released');
      for (const r of released.releases) expect(r.data.reason).toBe('match_aborted');
      expect(released.a.enqueuedAt).toBe(t1);
      expect(released.b.enqueuedAt).toBe(t2);
    } finally {
      stack.liveGame.handle = original;
    }
    const t1ms = Date.parse((await entry('ab1', e1)).enqueuedAt);
    // …and with live-game-api back, the two are paired again and get a game
    const game = await stack.until(async () => {
      const events = await stack.events();
      return ofType(events, 'GameCreated').find((g) =>
        ofType(events, 'MatchCreated').some(
          (m) => m.data.matchId === g.data.matchId && [m.data.white.userId, m.data.black.userId].includes('ab1'),
        ),
      );
    }, 'a game for ab1 after the abort');
    expect(game.data.gameId).toMatch(/^game-/);
    // the new decision counts ab1's wait from its ORIGINAL enqueue time (it kept its priority)
    const rematch = ofType(await stack.events(), 'MatchCreated').find((m) => m.data.matchId === game.data.matchId)!;
    const side = rematch.data.white.userId === 'ab1' ? rematch.data.white : rematch.data.black;
    expect(side.waitMs).toBeGreaterThanOrEqual(Date.parse(rematch.data.decidedAt) - t1ms - 1);
    expect(rematch.data.matchId).not.toBe(released.releases[0]!.data.matchId);
  });

  it('a non-retryable rejection aborts at once (game_creation_rejected)', async () => {
    const original = stack.liveGame.handle;
    stack.liveGame.handle = (_req, res) => json(res, 422, { detail: 'unknown time control' });
    try {
      await stack.join('rj1', 1900);
      await stack.join('rj2', 1900);
      // (the previous test's players may be paired again meanwhile: look at rj1's match only)
      const aborted = await stack.until(async () => {
        const events = await stack.events();
        const theirs = matchWith(events, 'rj');
        return ofType(events, 'MatchAborted').find(
          (e) => e.data.matchId === theirs?.matchId && e.data.reason === 'game_creation_rejected',
        );
      }, 'rejected match');
      expect(aborted.data.attempts).toBe(1);
    } finally {
      stack.liveGame.handle = original;
    }
  });

  it('after a refusal, a player live-game-api reports busy in a game leaves the queue (active_game); the other searches again', async () => {
    const original = stack.liveGame.handle;
    stack.liveGame.handle = (req, res) => {
      if (req.method === 'POST') return json(res, 409, { detail: 'player already has an active game' });
      if (req.url.startsWith('/internal/players/busy1/active-game')) return json(res, 200, { game_id: 'g-busy' });
      return json(res, 404, {});
    };
    try {
      const busyEntry = await stack.join('busy1', 2600);
      const freeEntry = await stack.join('free1', 2600);
      const ended = await stack.until(
        async () =>
          ofType(await stack.events(), 'QueueCancelled').find(
            (e) => e.data.queueEntryId === busyEntry && e.data.reason === 'active_game',
          ),
        'the busy player’s entry ended with reason active_game',
      );
      expect(ended.data.userId).toBe('busy1');
      const events = await stack.events();
      const aborted = ofType(events, 'MatchAborted').filter((e) => e.data.reason === 'game_creation_rejected');
      expect(aborted.length).toBeGreaterThan(0);
      expect(ofType(events, 'QueueEntryReleased').some((e) => e.data.queueEntryId === freeEntry)).toBe(true);
      expect(ofType(events, 'QueueCancelled').some((e) => e.data.queueEntryId === freeEntry)).toBe(false);
      // no abort loop: busy1 is in exactly one (aborted) match
      const busyMatches = ofType(events, 'MatchCreated').filter((m) =>
        [m.data.white.userId, m.data.black.userId].includes('busy1'),
      );
      expect(busyMatches).toHaveLength(1);
    } finally {
      stack.liveGame.handle = original;
    }
  });

  it('an entry past MAX_QUEUE_TIME_SECONDS gets QueueTimedOut (scheduler tick)', async () => {
    const e = await stack.join('lonely', 3000); // nobody near
    const timedOut = await stack.until(
      async () => ofType(await stack.events(), 'QueueTimedOut').find((t) => t.data.queueEntryId === e),
      'QueueTimedOut',
      15_000,
    );
    expect(timedOut.data.waitedMs).toBeGreaterThanOrEqual(3000);
    expect((await entry('lonely', e)).status).toBe('timed_out');
  });
});

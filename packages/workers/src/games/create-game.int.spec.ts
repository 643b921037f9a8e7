import { matchStream, playerStream } from '@mm/contracts';
import { loadState, playerDecider } from '@mm/domain';
import type { LiveGameApi } from '@mm/integrations';
import { defaultPairingConfig, type PoolEntry, pairPool } from '@mm/pairing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingStore, POOL, startWorkerStack, TENANT, type WorkerStack } from '../../test/stack.js';
import type { WorkerContext } from '../context.js';
import { abortMatch, loadMatch, settlePlayers } from '../match/match-steps.js';
import { commitPair } from '../pairing/commit-pair.js';
import { createGameForMatch } from './create-game.js';

// live-game-api is not ours: an in-process stand-in answers createGame here.
let stack: WorkerStack;
let baseCtx: WorkerContext;
beforeAll(async () => {
  stack = await startWorkerStack();
  baseCtx = stack.context();
});
afterAll(async () => {
  await stack?.stop();
});

const matched = async (prefix: string): Promise<{ matchId: string; users: string[] }> => {
  const users = [`${prefix}-a`, `${prefix}-b`];
  const entries: PoolEntry[] = [];
  for (const userId of users)
    entries.push({ entryId: await stack.join(userId, 1500), userId, rating: 1500, enqueuedAt: Date.now() - 1000 });
  const [pair] = pairPool(entries, Date.now(), defaultPairingConfig).pairs;
  const outcome = await commitPair(baseCtx, {
    tenantId: TENANT,
    poolKey: POOL.key,
    pair: pair!,
    decidedAt: Date.now(),
  });
  if (outcome.outcome !== 'matched') throw new Error(`not matched: ${outcome.outcome}`);
  return { matchId: outcome.matchId, users };
};

/** An in-process live-game-api: `createGame` as given, no active games, no game by key; cancels are recorded. */
const liveGame = (createGame: LiveGameApi['createGame'], cancels: string[] = []): LiveGameApi => ({
  createGame,
  activeGame: async () => null,
  findGameByKey: async () => null,
  cancelGame: async (gameId) => {
    cancels.push(gameId);
    return 'cancelled';
  },
});

const expectGameOnPlayers = async (users: string[], matchId: string, gameId: string) => {
  for (const userId of users) {
    const events = await stack.store.readStream(playerStream(TENANT, userId));
    expect(events.at(-1)).toMatchObject({ type: 'QueueEntryGameStarted', data: { matchId, gameId } });
    const { state } = await loadState(stack.store, playerStream(TENANT, userId), playerDecider);
    expect(state.liveMatch).toBeNull();
  }
};

describe('game creation: GameCreated and both players’ QueueEntryGameStarted', () => {
  it('are one transaction where the store can (one appendToStreams call)', async () => {
    const { matchId, users } = await matched('gtx');
    const { calls, store } = countingStore(stack.store);
    const outcome = await createGameForMatch(
      { ...baseCtx, store, liveGame: liveGame(async () => ({ gameId: 'game-gtx' })) },
      { tenantId: TENANT, matchId, attempt: 1, maxAttempts: 3 },
    );
    expect(outcome).toEqual({ outcome: 'game_created', gameId: 'game-gtx' });
    expect(calls).toEqual(['appendToStreams']);
    const match = await stack.store.readStream(matchStream(matchId));
    expect(match.map((event) => event.type)).toEqual(['MatchCreated', 'GameCreated']);
    await expectGameOnPlayers(users, matchId, 'game-gtx');
  });

  it('are appended stream by stream where the store cannot, to the same end state', async () => {
    const { matchId, users } = await matched('gseq');
    const { calls, store } = countingStore(stack.store, false);
    const outcome = await createGameForMatch(
      { ...baseCtx, store, liveGame: liveGame(async () => ({ gameId: 'game-gseq' })) },
      { tenantId: TENANT, matchId, attempt: 1, maxAttempts: 3 },
    );
    expect(outcome).toEqual({ outcome: 'game_created', gameId: 'game-gseq' });
    expect(calls).toEqual(['appendToStream', 'appendToStream', 'appendToStream']);
    await expectGameOnPlayers(users, matchId, 'game-gseq');
  });

  it('an abort that lands during the live-game-api call wins: nothing of the game is written, both players search again, the game is cancelled', async () => {
    const { matchId, users } = await matched('gab');
    const cancels: string[] = [];
    const ctx = { ...baseCtx, liveGame: liveGame(async () => ({ gameId: 'game-gab' }), cancels) };
    ctx.liveGame.createGame = async () => {
      await abortMatch(ctx, TENANT, matchId, { reason: 'game_creation_failed', attempts: 1, detail: 'test' });
      return { gameId: 'game-gab' };
    };
    const outcome = await createGameForMatch(ctx, { tenantId: TENANT, matchId, attempt: 1, maxAttempts: 3 });
    expect(outcome).toMatchObject({ outcome: 'aborted', compensation: { outcome: 'cancelled', gameId: 'game-gab' } });
    expect(cancels).toEqual(['game-gab']);
    const match = await stack.store.readStream(matchStream(matchId));
    expect(match.map((event) => event.type)).toEqual(['MatchCreated', 'MatchAborted']);
    for (const userId of users) {
      const events = await stack.store.readStream(playerStream(TENANT, userId));
      expect(events.map((event) => event.type)).not.toContain('QueueEntryGameStarted');
      expect(events.at(-1)).toMatchObject({ type: 'QueueEntryReleased', data: { matchId } });
    }
  });

  it('after a refusal, a player whose active game is this match’s own game is not busy: the game is cancelled, the entry searches again', async () => {
    const { matchId, users } = await matched('gown');
    const cancels: string[] = [];
    const ctx = {
      ...baseCtx,
      liveGame: {
        ...liveGame(async () => ({ gameId: 'unused' }), cancels),
        // the game an attempt made for this match (its reply lost) landed after the abort's lookup
        activeGame: async () => ({ gameId: 'game-gown', matchId }),
      },
    };
    await abortMatch(ctx, TENANT, matchId, { reason: 'game_creation_rejected', attempts: 2, detail: 'test' });
    await settlePlayers(ctx, TENANT, await loadMatch(ctx, matchId));
    expect(cancels).toContain('game-gown');
    for (const userId of users) {
      const events = await stack.store.readStream(playerStream(TENANT, userId));
      expect(events.map((e) => e.type)).not.toContain('QueueCancelled');
      expect(events.at(-1)).toMatchObject({ type: 'QueueEntryReleased', data: { matchId } });
    }
  });

  it('after a refusal, a player in another match’s game still leaves the queue (active_game)', async () => {
    const { matchId, users } = await matched('gbusy');
    const ctx = {
      ...baseCtx,
      liveGame: { ...liveGame(async () => ({ gameId: 'unused' })), activeGame: async () => ({ gameId: 'g-other' }) },
    };
    await abortMatch(ctx, TENANT, matchId, { reason: 'game_creation_rejected', attempts: 1, detail: 'test' });
    await settlePlayers(ctx, TENANT, await loadMatch(ctx, matchId));
    for (const userId of users) {
      const events = await stack.store.readStream(playerStream(TENANT, userId));
      expect(events.at(-1)).toMatchObject({ type: 'QueueCancelled', data: { reason: 'active_game' } });
    }
  });
});

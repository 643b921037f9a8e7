import { describe, expect, it } from 'vitest';
import { type CreateGameBody, GameRegistry } from './game-registry.js';

const body = (white: string, black: string, tenant = 't1'): CreateGameBody => ({
  tenant_id: tenant,
  white_user_id: white,
  black_user_id: black,
  time_control: '3+0',
  mode: 'rated',
  white_rating: 1500,
  black_rating: 1510,
  metadata: { match_id: 'm', source: 'queue' },
});

describe('game registry', () => {
  it('creates a game and tracks both players as in it', () => {
    const registry = new GameRegistry({ onePerPlayer: true });
    const outcome = registry.create(body('a', 'b'), 'k1');
    expect(outcome.kind).toBe('created');
    if (outcome.kind !== 'created') return;
    expect(registry.activeGameOf('t1', 'a')?.gameId).toBe(outcome.game.gameId);
    expect(registry.activeGameOf('t1', 'b')?.gameId).toBe(outcome.game.gameId);
    expect(registry.activeGameOf('t2', 'a')).toBeUndefined();
  });

  it('is idempotent by key: the same request gets the same game, another request is refused', () => {
    const registry = new GameRegistry({ onePerPlayer: true });
    const first = registry.create(body('a', 'b'), 'k1');
    const again = registry.create(body('a', 'b'), 'k1');
    expect(again.kind).toBe('replayed');
    if (first.kind !== 'created' || again.kind !== 'replayed') return;
    expect(again.game.gameId).toBe(first.game.gameId);
    expect(registry.create(body('a', 'c'), 'k1').kind).toBe('key_mismatch');
    expect(registry.size).toBe(1);
  });

  it('scopes keys by tenant', () => {
    const registry = new GameRegistry({ onePerPlayer: true });
    expect(registry.create(body('a', 'b', 't1'), 'k').kind).toBe('created');
    expect(registry.create(body('a', 'b', 't2'), 'k').kind).toBe('created');
  });

  it('refuses a second active game for a player until the first is finished', () => {
    const registry = new GameRegistry({ onePerPlayer: true });
    const first = registry.create(body('a', 'b'), 'k1');
    expect(registry.create(body('c', 'b'), 'k2')).toMatchObject({ kind: 'player_busy', userId: 'b' });
    if (first.kind !== 'created') return;
    expect(registry.finish(first.game.gameId, '1-0')?.status).toBe('finished');
    expect(registry.activeGameOf('t1', 'a')).toBeUndefined();
    expect(registry.create(body('c', 'b'), 'k2').kind).toBe('created');
    expect(registry.finish('nope', null)).toBeNull();
  });

  it('allows overlapping games when one-per-player is off', () => {
    const registry = new GameRegistry({ onePerPlayer: false });
    registry.create(body('a', 'b'), 'k1');
    expect(registry.create(body('a', 'c'), 'k2').kind).toBe('created');
    expect(registry.list({ status: 'active' })).toHaveLength(2);
  });

  it('cancels an active game idempotently (players freed), not a finished one; finds games by key', () => {
    const registry = new GameRegistry({ onePerPlayer: true });
    const made = registry.create(body('a', 'b'), 'k1');
    if (made.kind !== 'created') throw new Error(made.kind);
    expect(registry.byKey('t1', 'k1')?.gameId).toBe(made.game.gameId);
    expect(registry.byKey('t2', 'k1')).toBeUndefined();
    expect(registry.cancel(made.game.gameId, 'match_aborted')).toMatchObject({ kind: 'cancelled' });
    expect(registry.cancel(made.game.gameId, 'again')).toMatchObject({ kind: 'already_cancelled' });
    expect(made.game).toMatchObject({ status: 'cancelled', cancelReason: 'match_aborted' });
    expect(registry.activeGameOf('t1', 'a')).toBeUndefined();
    expect(registry.finish(made.game.gameId, '1-0')?.status).toBe('cancelled');
    const next = registry.create(body('a', 'b'), 'k2');
    if (next.kind !== 'created') throw new Error(next.kind);
    registry.finish(next.game.gameId, '1-0');
    expect(registry.cancel(next.game.gameId, null)).toMatchObject({ kind: 'finished' });
    expect(registry.cancel('nope', null)).toEqual({ kind: 'not_found' });
    expect(registry.list({ matchId: 'm' })).toHaveLength(2);
    expect(registry.list({ status: 'cancelled' })).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { challengeStream, matchStream, parsePlayerStream, playerStream, streamCategory } from './stream-names.js';

describe('stream names', () => {
  it('builds category-id names', () => {
    expect(playerStream('acme', 'u1')).toBe('player-acme:u1');
    expect(matchStream('m1')).toBe('match-m1');
    expect(challengeStream('c1')).toBe('challenge-c1');
  });

  it('encodes tenant and user so the name splits back unambiguously', () => {
    const name = playerStream('ten:ant-1', 'user:a/b');
    expect(name).toBe('player-ten%3Aant-1:user%3Aa%2Fb');
    expect(streamCategory(name)).toBe('player');
    expect(parsePlayerStream(name)).toEqual({ tenantId: 'ten:ant-1', userId: 'user:a/b' });
  });

  it('different (tenant, user) pairs never share a stream', () => {
    expect(playerStream('a:b', 'c')).not.toBe(playerStream('a', 'b:c'));
  });

  it('parsePlayerStream rejects other streams', () => {
    expect(parsePlayerStream('match-m1')).toBeNull();
    expect(parsePlayerStream('player-onlytenant')).toBeNull();
  });

  it('category is the part before the first dash', () => {
    expect(streamCategory(matchStream('0b6c-4a'))).toBe('match');
  });
});

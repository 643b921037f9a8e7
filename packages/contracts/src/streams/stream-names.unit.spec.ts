import { describe, expect, it } from 'vitest';
import {
  challengeStream,
  matchStream,
  parsePlayerStream,
  parsePoolStream,
  playerStream,
  poolStream,
  streamCategory,
} from './stream-names.js';

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

  it('pool streams encode tenant and pool key like player streams, and split back', () => {
    const name = poolStream('ten:ant-1', '3+0:rated');
    expect(name).toBe('pool-ten%3Aant-1:3%2B0%3Arated');
    expect(streamCategory(name)).toBe('pool');
    expect(parsePoolStream(name)).toEqual({ tenantId: 'ten:ant-1', poolKey: '3+0:rated' });
    expect(parsePoolStream(playerStream('a', 'b'))).toBeNull();
    expect(parsePoolStream('pool-onlytenant')).toBeNull();
  });

  it('category is the part before the first dash', () => {
    expect(streamCategory(matchStream('0b6c-4a'))).toBe('match');
  });
});

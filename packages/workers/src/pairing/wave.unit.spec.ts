import { describe, expect, it } from 'vitest';
import { decidePass, poolModes } from './wave.js';

describe('pool modes from WAVE_POOLS', () => {
  it('pools not listed are immediate; listed ones are waves', () => {
    const modeOf = poolModes('3+0:rated=12/20, 10+0:casual=5/4');
    expect(modeOf('5+0:rated')).toEqual({ kind: 'immediate' });
    expect(modeOf('3+0:rated')).toEqual({ kind: 'wave', intervalMs: 12_000, minPlayers: 20 });
    expect(modeOf('10+0:casual')).toEqual({ kind: 'wave', intervalMs: 5_000, minPlayers: 4 });
  });
});

describe('decidePass', () => {
  const wave = { kind: 'wave', intervalMs: 10_000, minPlayers: 6 } as const;

  it('immediate pools always pair', () => {
    expect(decidePass({ kind: 'immediate' }, { now: 0, searching: 0, lastWaveAt: null, firstSeenAt: 0 })).toEqual({
      pair: true,
      reason: 'immediate',
    });
  });

  it('a wave waits for its interval…', () => {
    expect(decidePass(wave, { now: 9_999, searching: 5, lastWaveAt: 0, firstSeenAt: 0 })).toEqual({ pair: false });
    expect(decidePass(wave, { now: 10_000, searching: 5, lastWaveAt: 0, firstSeenAt: 0 })).toEqual({
      pair: true,
      reason: 'interval',
    });
  });

  it('…or runs early once enough players wait', () => {
    expect(decidePass(wave, { now: 1, searching: 6, lastWaveAt: 0, firstSeenAt: 0 })).toEqual({
      pair: true,
      reason: 'min_players',
    });
  });

  it('never runs a wave for fewer than two players', () => {
    expect(decidePass(wave, { now: 50_000, searching: 1, lastWaveAt: 0, firstSeenAt: 0 })).toEqual({ pair: false });
  });

  it('the first wave counts from when the pool was first seen', () => {
    expect(decidePass(wave, { now: 15_000, searching: 2, lastWaveAt: null, firstSeenAt: 8_000 })).toEqual({
      pair: false,
    });
    expect(decidePass(wave, { now: 18_000, searching: 2, lastWaveAt: null, firstSeenAt: 8_000 }).pair).toBe(true);
  });
});

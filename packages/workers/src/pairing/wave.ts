import { parseWavePools } from '@mm/config';

/** How a pool is paired: on every change (`immediate`), or in waves. */
export type PoolMode = { kind: 'immediate' } | { kind: 'wave'; intervalMs: number; minPlayers: number };

/** Pool key → mode, from `WAVE_POOLS` (pools not listed are immediate). */
export function poolModes(wavePools: string): (poolKey: string) => PoolMode {
  const waves = parseWavePools(wavePools);
  return (poolKey) => {
    const wave = waves.get(poolKey);
    return wave
      ? { kind: 'wave', intervalMs: wave.intervalSeconds * 1000, minPlayers: wave.minPlayers }
      : { kind: 'immediate' };
  };
}

export type PassDecision = { pair: true; reason: 'immediate' | 'interval' | 'min_players' } | { pair: false };

/**
 * Whether a pass should pair now. Immediate pools always do. A wave pool pairs once its
 * interval has passed since the last wave, or as soon as `minPlayers` wait (a full wave is
 * worth running early). `lastWaveAt` null = never ran: the first wave waits one interval from
 * `firstSeenAt` so the pool gets a chance to fill.
 */
export function decidePass(
  mode: PoolMode,
  state: { now: number; searching: number; lastWaveAt: number | null; firstSeenAt: number },
): PassDecision {
  if (mode.kind === 'immediate') return { pair: true, reason: 'immediate' };
  if (state.searching < 2) return { pair: false };
  if (state.searching >= mode.minPlayers) return { pair: true, reason: 'min_players' };
  const since = state.lastWaveAt ?? state.firstSeenAt;
  if (state.now - since >= mode.intervalMs) return { pair: true, reason: 'interval' };
  return { pair: false };
}

import type { PoolEntry } from '../pool/pool-entry.js';

/** How many of a player's most recent games count for colour balance. */
export const COLOUR_HISTORY_LENGTH = 10;

export interface ColourAssignment {
  white: PoolEntry;
  black: PoolEntry;
  reason: 'colour-history' | 'seeded-coin';
}

/** 32-bit FNV-1a of a string's UTF-16 code units: a reproducible coin for a match id. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function recent(entry: PoolEntry): ('white' | 'black')[] {
  const history = entry.colourHistory ?? [];
  return history.slice(-COLOUR_HISTORY_LENGTH);
}

function whiteExcess(history: ('white' | 'black')[]): number {
  let excess = 0;
  for (const c of history) excess += c === 'white' ? 1 : -1;
  return excess;
}

/**
 * Chooses colours for a pair. The player who had white more often in their recent games gets
 * black; on equal counts, the one who had white more recently (comparing the games from the most
 * recent backwards) gets black. Without a difference (or without history) a coin seeded from the
 * match id decides, so replays give the same colours.
 */
export function assignColours(pair: { a: PoolEntry; b: PoolEntry }, matchId: string): ColourAssignment {
  const ha = recent(pair.a);
  const hb = recent(pair.b);
  const diff = whiteExcess(ha) - whiteExcess(hb);
  if (diff > 0) return { white: pair.b, black: pair.a, reason: 'colour-history' };
  if (diff < 0) return { white: pair.a, black: pair.b, reason: 'colour-history' };
  for (let back = 1; back <= Math.min(ha.length, hb.length); back++) {
    const ca = ha[ha.length - back];
    const cb = hb[hb.length - back];
    if (ca === cb) continue;
    return ca === 'white'
      ? { white: pair.b, black: pair.a, reason: 'colour-history' }
      : { white: pair.a, black: pair.b, reason: 'colour-history' };
  }
  // Order the two by entryId so the coin does not depend on which side was passed as `a`.
  const [first, second] = pair.a.entryId <= pair.b.entryId ? [pair.a, pair.b] : [pair.b, pair.a];
  return (hashString(matchId) & 1) === 0
    ? { white: first, black: second, reason: 'seeded-coin' }
    : { white: second, black: first, reason: 'seeded-coin' };
}

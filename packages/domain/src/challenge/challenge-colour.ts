import type { ChallengeColour, Colour } from '@mm/contracts';

/** 32-bit FNV-1a: tiny, stable across platforms and versions, good enough to flip a coin. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
};

/**
 * The challenger's colour. `random` is decided by a hash of the challenge id, so every
 * retry, replay and auditor gets the same answer.
 */
export const challengerColour = (challengeId: string, wish: ChallengeColour): { colour: Colour; reason: string } => {
  if (wish !== 'random') return { colour: wish, reason: 'challenger_choice' };
  return { colour: fnv1a(challengeId) % 2 === 0 ? 'white' : 'black', reason: 'challenge_random' };
};

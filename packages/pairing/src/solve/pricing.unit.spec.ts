import { describe, expect, it } from 'vitest';
import { mulberry32, NOW, randomPool } from '../../test/pool-fixtures.js';
import { defaultPairingConfig, type PairingConfig } from '../config.js';
import type { DualCertificate } from '../matching/primal-dual-matcher.js';
import type { PoolEntry } from '../pool/pool-entry.js';
import { compatible, type PreparedPool, preparePool, weightOf } from '../pool/prepared-pool.js';
import { solveCertified } from './certified.js';
import { pricePairs } from './pricing.js';

/** Every allowed pair with a negative doubled slack, by enumeration (shared dual by walking up). */
function bruteForce(pool: PreparedPool, cert: DualCertificate): string[] {
  const parent = cert.blossomParent;
  const shared = (i: number, j: number): number => {
    const mine = new Set<number>();
    for (let b = parent[i]!; b !== -1; b = parent[b]!) mine.add(b);
    let b = parent[j]!;
    while (b !== -1 && !mine.has(b)) b = parent[b]!;
    let total = 0;
    for (; b !== -1; b = parent[b]!) total += cert.dual[b]!;
    return total;
  };
  const out: string[] = [];
  for (let i = 0; i < pool.size; i++) {
    for (let j = i + 1; j < pool.size && pool.rating[j]! <= pool.high[i]!; j++) {
      if (!compatible(pool, i, j)) continue;
      if (cert.dual[i]! + cert.dual[j]! + shared(i, j) - 2 * weightOf(pool, i, j) < 0) out.push(`${i}-${j}`);
    }
  }
  return out.sort();
}

function priced(pool: PreparedPool, cert: DualCertificate): string[] {
  const flat = pricePairs(pool, cert);
  const out: string[] = [];
  for (let k = 0; k < flat.length; k += 2) out.push(`${flat[k]}-${flat[k + 1]}`);
  return out.sort();
}

/** Lowers some vertex and blossom duals (by gap-sized and by pair-sized amounts). */
function perturbed(cert: DualCertificate, seed: number, n: number, C: number): DualCertificate {
  const random = mulberry32(seed);
  const dual = cert.dual.slice();
  for (let x = 0; x < 2 * n; x++) {
    if (dual[x] === 0 || random() > 0.03) continue;
    dual[x] = dual[x]! - (random() < 0.1 ? Math.floor(random() * C) : 1 + Math.floor(random() * 400));
  }
  return { ...cert, dual };
}

function mixedPool(size: number, seed: number): PoolEntry[] {
  const random = mulberry32(seed);
  return randomPool(size, seed, 1500, 200, 300_000).map((e, i) => ({
    ...e,
    // Some share a user, some narrow their range, some just played each other.
    userId: random() < 0.05 ? `u${i % 7}` : e.userId,
    ratingRange: random() < 0.1 ? { min: e.rating - 40 - Math.floor(random() * 100) } : null,
    rating: e.rating + (random() < 0.3 ? 0.37 : 0),
    recentOpponents: random() < 0.1 ? [{ userId: `u${(i + 1) % size}`, at: NOW - 5_000 }] : [],
  }));
}

const cases: [string, PoolEntry[], PairingConfig][] = [
  ['random 800', randomPool(800, 11), defaultPairingConfig],
  ['wave 1,000', randomPool(1000, 12, 1500, 350, 1), defaultPairingConfig],
  ['dense 800 (narrow ratings, long waits)', randomPool(800, 13, 1500, 80, 600_000), defaultPairingConfig],
  [
    'mixed 700 (users, ranges, rematches, fractional ratings)',
    mixedPool(700, 14),
    {
      ...defaultPairingConfig,
      rematchCooldownSeconds: 60,
    },
  ],
  [
    'windows past the gap cap (maxWindow 30,000)',
    randomPool(300, 15, 15_000, 9_000, 600_000),
    {
      ...defaultPairingConfig,
      wideningStep: 5_000,
      maxWindow: 30_000,
    },
  ],
];

describe('pricePairs', () => {
  it.each(cases)(
    'finds exactly the violated pairs of the brute force: %s',
    (_name, entries, config) => {
      const pool = preparePool(entries, NOW, config);
      const mate = new Int32Array(pool.size).fill(-1);
      const solved = solveCertified(pool, mate);
      expect(solved.certified).toBe(true);
      expect(priced(pool, solved.certificate)).toEqual([]);
      expect(bruteForce(pool, solved.certificate)).toEqual([]);
      for (let seed = 1; seed <= 3; seed++) {
        const cert = perturbed(solved.certificate, seed, pool.size, pool.scales.pairBonus);
        const expected = bruteForce(pool, cert);
        expect(expected.length).toBeGreaterThan(0);
        expect(priced(pool, cert)).toEqual(expected);
      }
    },
    60_000,
  );

  it('keeps nested blossoms apart: the random pools above nest them', () => {
    const pool = preparePool(randomPool(800, 11), NOW, defaultPairingConfig);
    const solved = solveCertified(pool, new Int32Array(pool.size).fill(-1));
    const parent = solved.certificate.blossomParent;
    let deepest = 0;
    for (let v = 0; v < pool.size; v++) {
      let d = 0;
      for (let b = parent[v]!; b !== -1; b = parent[b]!) if (solved.certificate.dual[b]! > 0) d++;
      deepest = Math.max(deepest, d);
    }
    expect(deepest).toBeGreaterThan(5);
  });
});

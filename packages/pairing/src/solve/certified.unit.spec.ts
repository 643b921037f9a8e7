import { describe, expect, it } from 'vitest';
import { NOW, randomPool } from '../../test/pool-fixtures.js';
import { defaultPairingConfig } from '../config.js';
import type { DualCertificate } from '../matching/primal-dual-matcher.js';
import type { PoolEntry } from '../pool/pool-entry.js';
import { compatible, type PreparedPool, preparePool, weightOf } from '../pool/prepared-pool.js';
import { solveCertified } from './certified.js';

/**
 * Checks a pool's certificate without the solver's pricing: every allowed pair (all of them, by
 * window) has a non-negative slack, matched pairs are tight, free entries have a zero dual, and
 * the dual objective equals the matching's weight.
 */
function expectCertified(pool: PreparedPool, cert: DualCertificate): void {
  const { size, rating, high, low } = pool;
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
  let topOf = (v: number): number => {
    let x = v;
    while (parent[x] !== -1) x = parent[x]!;
    return x;
  };
  const tops = Int32Array.from({ length: size }, (_, v) => topOf(v));
  topOf = (v) => tops[v]!;
  let negative = 0;
  let weight = 0;
  for (let i = 0; i < size; i++) {
    if (low[i]! > high[i]!) continue;
    for (let j = i + 1; j < size && rating[j]! <= high[i]!; j++) {
      if (rating[j]! < low[i]! || !compatible(pool, i, j)) continue;
      const w = weightOf(pool, i, j);
      const t = topOf(i);
      let slack = cert.dual[i]! + cert.dual[j]! - 2 * w + (t >= size && t === topOf(j) ? cert.dual[t]! : 0);
      if (slack < 0 || cert.mate[i] === j) slack += t >= size && t === topOf(j) ? shared(i, j) - cert.dual[t]! : 0;
      if (slack < 0) negative++;
      if (cert.mate[i] === j) {
        expect(slack).toBe(0);
        weight += w;
      }
    }
  }
  expect(negative).toBe(0);
  const members = new Map<number, number>();
  let objective = 0;
  for (let v = 0; v < size; v++) {
    expect(cert.dual[v]).toBeGreaterThanOrEqual(0);
    if (cert.mate[v] === -1) expect(cert.dual[v]).toBe(0);
    objective += cert.dual[v]!;
    for (let b = parent[v]!; b !== -1; b = parent[b]!) members.set(b, (members.get(b) ?? 0) + 1);
  }
  for (const [b, count] of members) {
    expect(cert.dual[b]).toBeGreaterThanOrEqual(0);
    objective += (cert.dual[b]! * (count - 1)) / 2;
  }
  expect(objective).toBe(2 * weight);
}

function solve(entries: PoolEntry[]) {
  const pool = preparePool(entries, NOW, defaultPairingConfig);
  const mate = new Int32Array(pool.size).fill(-1);
  const result = solveCertified(pool, mate);
  return { pool, result, mate };
}

describe('solveCertified', () => {
  it('certifies a 1,000-entry pool (checked pair by pair, independently of the pricing)', () => {
    const { pool, result, mate } = solve(randomPool(1000, 5));
    expect(result.certified).toBe(true);
    expect(result.dualValue).toBe(result.weight);
    expect(Array.from(mate)).toEqual(Array.from(result.certificate.mate));
    expectCertified(pool, result.certificate);
  }, 30_000);

  it('certifies a 3,000-entry wave (everyone just arrived: initial windows)', () => {
    const { pool, result } = solve(randomPool(3000, 6, 1500, 350, 1));
    expect(result.certified).toBe(true);
    expectCertified(pool, result.certificate);
  }, 60_000);

  it('prices in the pairs the candidate graph missed (a crowd of one user hides the partners)', () => {
    // Entry 0's nearest 64 entries upwards are the same user as entry 0's only partner's rival…
    const entries: PoolEntry[] = [];
    entries.push({ entryId: 'a', userId: 'ua', rating: 1500, enqueuedAt: NOW - 30_000 });
    for (let k = 0; k < 80; k++)
      entries.push({ entryId: `s${k}`, userId: 'ua', rating: 1501 + k / 100, enqueuedAt: NOW - 1000 });
    entries.push({ entryId: 'b', userId: 'ub', rating: 1560, enqueuedAt: NOW - 30_000 });
    const { pool, result, mate } = solve(entries);
    expect(result.rounds).toBeGreaterThan(1);
    expect(result.certified).toBe(true);
    const a = pool.entries.findIndex((e) => e.entryId === 'a');
    expect(pool.entries[mate[a]!]!.entryId).toBe('b');
    expectCertified(pool, result.certificate);
  });

  it('gives the same result when the matcher reuses the buffers of the pass before (and keeps earlier certificates intact)', () => {
    const first = solve(randomPool(2000, 7));
    const copy = {
      mate: Array.from(first.result.certificate.mate),
      dual: Array.from(first.result.certificate.dual),
      parent: Array.from(first.result.certificate.blossomParent),
    };
    // A larger pool (the buffers grow), a smaller one (they are reused), then the first again.
    const larger = solve(randomPool(3000, 8));
    const smaller = solve(randomPool(1200, 9));
    const again = solve(randomPool(2000, 7));
    for (const run of [larger, smaller, again]) {
      expect(run.result.certified).toBe(true);
      expectCertified(run.pool, run.result.certificate);
    }
    expect(Array.from(first.result.certificate.mate)).toEqual(copy.mate);
    expect(Array.from(first.result.certificate.dual)).toEqual(copy.dual);
    expect(Array.from(first.result.certificate.blossomParent)).toEqual(copy.parent);
    expect(Array.from(again.result.certificate.mate)).toEqual(copy.mate);
    expect(Array.from(again.result.certificate.dual)).toEqual(copy.dual);
    expect(again.result.weight).toBe(first.result.weight);
  }, 60_000);
});

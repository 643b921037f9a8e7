import { describe, expect, it } from 'vitest';
import { mulberry32, NOW, randomPool } from '../../test/pool-fixtures.js';
import { defaultPairingConfig } from '../config.js';
import type { DualCertificate } from '../matching/primal-dual-matcher.js';
import { compatible, type PreparedPool, preparePool, weightOf } from '../pool/prepared-pool.js';
import { solveCertified } from './certified.js';

/**
 * The certificate checked without the solver's pricing or objective: the shared blossom dual of
 * a pair by binary lifting over the raw blossom forest (zero-dual blossoms included), the
 * objective recomputed from blossom sizes. Checked pairs: every allowed pair at most `near`
 * points apart, plus `sampled` random partners in each entry's window.
 */
function checkCertificate(
  pool: PreparedPool,
  cert: DualCertificate,
  pairs: { near: number; sampled: number; random: () => number },
): { checked: number; negative: number } {
  const n = pool.size;
  const parent = cert.blossomParent;
  const LOG = 13;
  const nodes = 2 * n;
  const depth = new Int32Array(nodes).fill(-1);
  const sumToRoot = new Float64Array(nodes);
  const lift: Int32Array[] = Array.from({ length: LOG }, () => new Int32Array(nodes).fill(-1));
  const order: number[] = [];
  const visit = (x0: number): void => {
    const path: number[] = [];
    let x = x0;
    while (depth[x] === -1 && parent[x] !== -1) {
      path.push(x);
      x = parent[x]!;
    }
    if (depth[x] === -1) {
      depth[x] = 0;
      sumToRoot[x] = x >= n ? cert.dual[x]! : 0;
      order.push(x);
    }
    for (let k = path.length - 1; k >= 0; k--) {
      const y = path[k]!;
      depth[y] = depth[parent[y]!]! + 1;
      sumToRoot[y] = sumToRoot[parent[y]!]! + (y >= n ? cert.dual[y]! : 0);
      lift[0]![y] = parent[y]!;
      order.push(y);
    }
  };
  for (let v = 0; v < n; v++) visit(v);
  for (let l = 1; l < LOG; l++) {
    for (const x of order) {
      const mid = lift[l - 1]![x]!;
      lift[l]![x] = mid === -1 ? -1 : lift[l - 1]![mid]!;
    }
  }
  const ancestorAt = (x0: number, d: number): number => {
    let x = x0;
    for (let l = LOG - 1; l >= 0; l--) {
      while (depth[x]! - d >= 1 << l) x = lift[l]![x]!;
    }
    return x;
  };
  const shared = (i: number, j: number): number => {
    let a = parent[i]!;
    let b = parent[j]!;
    if (a === -1 || b === -1) return 0;
    if (depth[a]! > depth[b]!) a = ancestorAt(a, depth[b]!);
    else if (depth[b]! > depth[a]!) b = ancestorAt(b, depth[a]!);
    if (a === b) return sumToRoot[a]!;
    for (let l = LOG - 1; l >= 0; l--) {
      while (lift[l]![a] !== lift[l]![b]) {
        a = lift[l]![a]!;
        b = lift[l]![b]!;
      }
    }
    const top = parent[a]!;
    return top === -1 ? 0 : sumToRoot[top]!;
  };
  let checked = 0;
  let negative = 0;
  let weight = 0n;
  for (let i = 0; i < n; i++) {
    const j = cert.mate[i]!;
    if (j === -1) {
      expect(cert.dual[i]).toBe(0);
      continue;
    }
    expect(cert.mate[j]).toBe(i);
    expect(compatible(pool, i, j)).toBe(true);
    expect(cert.dual[i]! + cert.dual[j]! + shared(i, j) - 2 * weightOf(pool, i, j)).toBe(0);
    if (i < j) weight += BigInt(weightOf(pool, i, j));
  }
  const check = (i: number, j: number): void => {
    if (!compatible(pool, i, j)) return;
    checked++;
    if (cert.dual[i]! + cert.dual[j]! + shared(i, j) - 2 * weightOf(pool, i, j) < 0) negative++;
  };
  for (let i = 0; i < n; i++) {
    if (pool.low[i]! > pool.high[i]!) continue;
    const reach = Math.min(pool.high[i]!, pool.rating[i]! + pairs.near);
    let end = i + 1;
    for (; end < n && pool.rating[end]! <= reach; end++) check(i, end);
    let windowEnd = end;
    while (windowEnd < n && pool.rating[windowEnd]! <= pool.high[i]!) windowEnd++;
    for (let s = 0; s < pairs.sampled && windowEnd > end; s++)
      check(i, end + Math.floor(pairs.random() * (windowEnd - end)));
  }
  const size = new Int32Array(nodes);
  for (let v = 0; v < n; v++) size[v] = 1;
  const deepestFirst = order.slice().sort((x, y) => depth[y]! - depth[x]!);
  for (const x of deepestFirst) if (parent[x] !== -1) size[parent[x]!]! += size[x]!;
  let objective4 = 0n;
  for (let v = 0; v < n; v++) {
    expect(cert.dual[v]).toBeGreaterThanOrEqual(0);
    objective4 += BigInt(2 * cert.dual[v]!);
  }
  for (let b = n; b < nodes; b++) {
    if (depth[b] === -1 || cert.dual[b] === 0) continue;
    expect(cert.dual[b]).toBeGreaterThan(0);
    objective4 += BigInt(2 * cert.dual[b]!) * BigInt((size[b]! - 1) / 2);
  }
  expect(objective4).toBe(4n * weight);
  return { checked, negative };
}

function solve(size: number, seed: number, maxWaitMs: number) {
  const pool = preparePool(randomPool(size, seed, 1500, 350, maxWaitMs), NOW, defaultPairingConfig);
  const result = solveCertified(pool, new Int32Array(pool.size).fill(-1));
  return { pool, result };
}

describe('solveCertified on large pools (certificates checked independently)', () => {
  it('certifies a random 10,000-entry pool: every allowed pair checked', () => {
    const { pool, result } = solve(10_000, 21, 120_000);
    expect(result.certified).toBe(true);
    const everyPair = { near: Number.POSITIVE_INFINITY, sampled: 0, random: Math.random };
    const { checked, negative } = checkCertificate(pool, result.certificate, everyPair);
    expect(checked).toBeGreaterThan(10_000_000);
    expect(negative).toBe(0);
  }, 60_000);

  it('certifies a 100,000-entry wave: matched pairs, objective, every allowed pair within 1 point and 10 random partners per entry', () => {
    const { pool, result } = solve(100_000, 22, 1);
    expect(result.certified).toBe(true);
    const sample = { near: 1, sampled: 10, random: mulberry32(5) };
    const { checked, negative } = checkCertificate(pool, result.certificate, sample);
    expect(checked).toBeGreaterThan(8_000_000);
    expect(negative).toBe(0);
  }, 120_000);
});

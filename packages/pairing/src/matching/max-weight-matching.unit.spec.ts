import blossom from 'edmonds-blossom';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxWeightMatching, maxWeightMatchingWithDuals } from './max-weight-matching.js';

type Edge = [number, number, number];

function bruteForce(n: number, edges: Edge[]): number {
  const best = new Map<number, number>();
  const weightOf = new Map<number, number>();
  for (const [i, j, w] of edges) {
    weightOf.set(i * 64 + j, Math.max(weightOf.get(i * 64 + j) ?? 0, w));
    weightOf.set(j * 64 + i, Math.max(weightOf.get(j * 64 + i) ?? 0, w));
  }
  const solve = (mask: number): number => {
    if (mask === 0) return 0;
    const cached = best.get(mask);
    if (cached !== undefined) return cached;
    let i = 0;
    while (!((mask >> i) & 1)) i++;
    const rest = mask & ~(1 << i);
    let value = solve(rest);
    for (let j = 0; j < n; j++) {
      const w = weightOf.get(i * 64 + j);
      if ((rest >> j) & 1 && w !== undefined && w > 0) value = Math.max(value, w + solve(rest & ~(1 << j)));
    }
    best.set(mask, value);
    return value;
  };
  return solve((1 << n) - 1);
}

function run(n: number, edges: Edge[]): { mate: Int32Array; weight: number } {
  const mate = maxWeightMatching({
    vertexCount: n,
    from: edges.map((e) => e[0]),
    to: edges.map((e) => e[1]),
    weight: edges.map((e) => e[2]),
    edgeCount: edges.length,
  });
  let weight = 0;
  for (const [i, j, w] of edges) if (mate[i] === j) weight += w;
  return { mate, weight };
}

const graph = (maxVertices: number) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: maxVertices }),
      density: fc.double({ min: 0, max: 1, noNaN: true }),
      weightRange: fc.constantFrom(2, 5, 1000, 1e12),
      seed: fc.integer(),
    })
    .map(({ n, density, weightRange, seed }) => {
      let s = seed >>> 0;
      const random = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 4294967296;
      };
      const edges: Edge[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          if (random() < density) edges.push([i, j, 1 + Math.floor(random() * weightRange)]);
        }
      }
      return { n, edges };
    });

describe('maxWeightMatching', () => {
  it('returns a consistent matching using only given edges', () => {
    fc.assert(
      fc.property(graph(20), ({ n, edges }) => {
        const { mate } = run(n, edges);
        const allowed = new Set(edges.map(([i, j]) => `${Math.min(i, j)}-${Math.max(i, j)}`));
        for (let v = 0; v < n; v++) {
          const u = mate[v]!;
          if (u === -1) continue;
          expect(mate[u]).toBe(v);
          expect(allowed.has(`${Math.min(u, v)}-${Math.max(u, v)}`)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('matches brute force on graphs up to 12 vertices', () => {
    fc.assert(
      fc.property(graph(12), ({ n, edges }) => {
        expect(run(n, edges).weight).toBe(bruteForce(n, edges));
      }),
      { numRuns: 1500 },
    );
  });

  it('matches the edmonds-blossom reference on thousands of random graphs', () => {
    fc.assert(
      fc.property(graph(40), ({ n, edges }) => {
        if (edges.length === 0) return;
        const ref = blossom(edges.map((e) => [...e]));
        let refWeight = 0;
        for (const [i, j, w] of edges) if (ref[i] === j) refWeight += w;
        expect(run(n, edges).weight).toBe(refWeight);
      }),
      { numRuns: 3000 },
    );
  });

  it('returns duals that certify optimality (feasible, tight on matched edges)', () => {
    fc.assert(
      fc.property(graph(16), ({ n, edges }) => {
        const solved = maxWeightMatchingWithDuals({
          vertexCount: n,
          from: edges.map((e) => e[0]),
          to: edges.map((e) => e[1]),
          weight: edges.map((e) => e[2]),
          edgeCount: edges.length,
        });
        if (edges.length === 0) return;
        const chain = (v: number) => {
          const out: number[] = [];
          for (let b = solved.blossomParent[v]!; b !== -1; b = solved.blossomParent[b]!) out.push(b);
          return out.reverse();
        };
        for (const [i, j, w] of edges) {
          const ci = chain(i);
          const cj = chain(j);
          let slack = solved.dual[i]! + solved.dual[j]! - 2 * w;
          for (let k = 0; k < ci.length && k < cj.length && ci[k] === cj[k]; k++) slack += 2 * solved.dual[ci[k]!]!;
          expect(slack).toBeGreaterThanOrEqual(0);
          if (solved.mate[i] === j) expect(slack).toBe(0);
        }
        for (let v = 0; v < n; v++) if (solved.mate[v] === -1) expect(solved.dual[v]).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

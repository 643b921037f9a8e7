import blossom from 'edmonds-blossom';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DualCertificate, PrimalDualMatcher } from './primal-dual-matcher.js';

type Edge = [number, number, number];

const graph = (maxVertices: number) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: maxVertices }),
      density: fc.double({ min: 0, max: 1, noNaN: true }),
      weightRange: fc.constantFrom(2, 5, 1000, 1e12),
      seed: fc.integer(),
      warm: fc.boolean(),
    })
    .map(({ n, density, weightRange, seed, warm }) => {
      let s = seed >>> 0;
      const random = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 4294967296;
      };
      const edges: Edge[] = [];
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++)
          if (random() < density) edges.push([i, j, 1 + Math.floor(random() * weightRange)]);
      return { n, edges, warm };
    });

/** Duals Y(v) = the heaviest incident weight (feasible); optionally the tight pairs matched greedily. */
function solve(n: number, edges: Edge[], warm: boolean): DualCertificate {
  const matcher = new PrimalDualMatcher({
    vertexCount: n,
    from: edges.map((e) => e[0]),
    to: edges.map((e) => e[1]),
    weight: edges.map((e) => e[2]),
    edgeCount: edges.length,
  });
  const dual = new Float64Array(n);
  for (const [i, j, w] of edges) {
    dual[i] = Math.max(dual[i]!, w);
    dual[j] = Math.max(dual[j]!, w);
  }
  const mate = new Int32Array(n).fill(-1);
  if (warm) {
    for (const [i, j, w] of edges) {
      if (mate[i] === -1 && mate[j] === -1 && dual[i] === w && dual[j] === w) {
        mate[i] = j;
        mate[j] = i;
      }
    }
  }
  matcher.warmStart(mate, dual);
  return matcher.solve();
}

function weightOf(edges: Edge[], mate: Int32Array): number {
  let total = 0;
  for (const [i, j, w] of edges) if (mate[i] === j) total += w;
  return total;
}

/** Checks the LP certificate independently: feasibility, tightness, and dual objective = weight. */
function expectCertified(n: number, edges: Edge[], cert: DualCertificate): void {
  const chain = (v: number) => {
    const out: number[] = [];
    for (let b = cert.blossomParent[v]!; b !== -1; b = cert.blossomParent[b]!) out.push(b);
    return out.reverse();
  };
  for (const [i, j, w] of edges) {
    const ci = chain(i);
    const cj = chain(j);
    let slack = cert.dual[i]! + cert.dual[j]! - 2 * w;
    for (let k = 0; k < ci.length && k < cj.length && ci[k] === cj[k]; k++) slack += cert.dual[ci[k]!]!;
    expect(slack).toBeGreaterThanOrEqual(0);
    if (cert.mate[i] === j) expect(slack).toBe(0);
  }
  let objective = 0;
  const size = new Map<number, number>();
  for (let v = 0; v < n; v++) {
    expect(cert.dual[v]).toBeGreaterThanOrEqual(0);
    if (cert.mate[v] === -1) expect(cert.dual[v]).toBe(0);
    objective += cert.dual[v]!;
    for (const b of chain(v)) size.set(b, (size.get(b) ?? 0) + 1);
  }
  for (const [b, count] of size) {
    expect(cert.dual[b]).toBeGreaterThanOrEqual(0);
    objective += (cert.dual[b]! * (count - 1)) / 2;
  }
  expect(objective).toBe(2 * weightOf(edges, cert.mate));
}

describe('PrimalDualMatcher', () => {
  it('matches the edmonds-blossom reference from cold and warm starts, with a certificate', () => {
    fc.assert(
      fc.property(graph(40), ({ n, edges, warm }) => {
        const cert = solve(n, edges, warm);
        const ref = edges.length === 0 ? [] : blossom(edges.map((e) => [...e]));
        let refWeight = 0;
        for (const [i, j, w] of edges) if (ref[i] === j) refWeight += w;
        expect(weightOf(edges, cert.mate)).toBe(refWeight);
        for (let v = 0; v < n; v++) if (cert.mate[v]! >= 0) expect(cert.mate[cert.mate[v]!]).toBe(v);
        expectCertified(n, edges, cert);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a warm start that pairs vertices without a tight edge', () => {
    const matcher = new PrimalDualMatcher({ vertexCount: 2, from: [0], to: [1], weight: [5], edgeCount: 1 });
    expect(() => matcher.warmStart(Int32Array.from([1, 0]), Float64Array.from([6, 6]))).toThrow(/not tight/);
  });
});

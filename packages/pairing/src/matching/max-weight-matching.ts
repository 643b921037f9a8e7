import { blossomWalk } from './blossom-walk.js';
/**
 * Maximum-weight matching in a general (non-bipartite) graph: Edmonds' blossom algorithm in
 * its primal–dual form (Edmonds 1965; Gabow 1974; Galil 1986 "Efficient algorithms for finding
 * maximum matching in graphs"), with the O(n) per dual step bookkeeping of "best edges" per
 * vertex and per blossom, so the whole run is O(n³) in the worst case and about O(n·m) when
 * few dual steps per augmentation are needed (the usual case for pairing pools).
 *
 * Written for this package with flat typed arrays (edge endpoints as `2k` / `2k+1`, adjacency
 * as a compressed sparse row). With integer weights below 2^51 every dual value and slack stays
 * an exact integer: duals are stored doubled (the slack of an edge is `dual[i] + dual[j] − 2w`),
 * and an S–S edge's slack is always even, so halving it is exact.
 */

/** A graph given as parallel edge arrays; vertices are `0 … vertexCount − 1`. */
export interface WeightedEdges {
  vertexCount: number;
  /** First endpoint of each edge. */
  from: ArrayLike<number>;
  /** Second endpoint of each edge. */
  to: ArrayLike<number>;
  /** Weight of each edge (integers for exact results; edges with weight ≤ 0 are never useful). */
  weight: ArrayLike<number>;
  /** Number of edges (may be smaller than the arrays' lengths). */
  edgeCount: number;
}

const FREE = 0;
const S = 1;
const T = 2;
const BREADCRUMB = 4;

/**
 * Returns `mate[v]` = the vertex matched to `v`, or −1. The matching has the maximum total
 * weight among all matchings (not necessarily maximum cardinality: encode that in the weights).
 */
export function maxWeightMatching(graph: WeightedEdges): Int32Array {
  return maxWeightMatchingWithDuals(graph).mate;
}

/**
 * The matching plus the optimal dual solution of Edmonds' odd-set LP, which certifies it:
 * for every edge (i, j, w) of the graph, `dual[i] + dual[j] − 2w + 2·Σ dual[B] ≥ 0`, the sum over
 * the blossoms B (indices ≥ n, found through `blossomParent`) that contain both i and j, with
 * equality on matched edges, zero `dual` on unmatched vertices and non-negative values elsewhere.
 * Any further edge that satisfies the same inequality cannot improve the matching.
 */
export interface MatchingWithDuals {
  mate: Int32Array;
  /** Doubled vertex duals at 0 … n−1, blossom duals at n … 2n−1. */
  dual: Float64Array;
  /** Enclosing blossom of each vertex / blossom, or −1. */
  blossomParent: Int32Array;
}

export function maxWeightMatchingWithDuals(graph: WeightedEdges): MatchingWithDuals {
  const n = graph.vertexCount;
  const m = graph.edgeCount;
  const mate = new Int32Array(n).fill(-1);
  if (n === 0 || m === 0) {
    return { mate, dual: new Float64Array(2 * n), blossomParent: new Int32Array(2 * n).fill(-1) };
  }
  const solver = new BlossomSolver(graph);
  solver.run();
  for (let v = 0; v < n; v++) {
    const p = solver.mate[v]!;
    if (p >= 0) mate[v] = solver.endpoint[p]!;
  }
  return { mate, dual: solver.dual, blossomParent: solver.blossomParent };
}

class BlossomSolver {
  readonly n: number;
  readonly m: number;
  readonly endpoint: Int32Array;
  readonly w: Float64Array;
  /** CSR adjacency: for vertex v, `adj[adjStart[v] … adjStart[v+1])` are remote endpoints p. */
  readonly adjStart: Int32Array;
  readonly adj: Int32Array;
  /** Remote endpoint of v's matched edge, or −1. */
  readonly mate: Int32Array;
  readonly label: Int8Array;
  readonly labelEnd: Int32Array;
  readonly inBlossom: Int32Array;
  readonly blossomParent: Int32Array;
  readonly blossomChilds: (number[] | null)[];
  readonly blossomBase: Int32Array;
  readonly blossomEndps: (number[] | null)[];
  readonly bestEdge: Int32Array;
  readonly blossomBestEdges: (number[] | null)[];
  readonly unusedBlossoms: number[];
  readonly dual: Float64Array;
  readonly allowEdge: Uint8Array;
  /** Stack of S-vertices whose edges still need scanning. */
  readonly queue: number[] = [];
  /**
   * Per-stage supersets of the labelled vertices / non-trivial blossoms and of the free vertices
   * with a best edge, so a dual step costs O(labelled) rather than O(n): late stages grow small
   * trees from few free vertices.
   */
  readonly touchedVertices: number[] = [];
  readonly touchedBlossoms: number[] = [];
  readonly freeWithBestEdge: number[] = [];
  readonly vertexStamp: Int32Array;
  readonly blossomStamp: Int32Array;
  readonly freeStamp: Int32Array;
  stamp = 0;
  /** Scratch for addBlossom's best-edge merge (index = blossom / vertex id). */
  readonly bestEdgeTo: Int32Array;

  constructor(graph: WeightedEdges) {
    const n = graph.vertexCount;
    const m = graph.edgeCount;
    this.n = n;
    this.m = m;
    this.endpoint = new Int32Array(2 * m);
    this.w = new Float64Array(m);
    const degree = new Int32Array(n + 1);
    let maxWeight = 0;
    for (let k = 0; k < m; k++) {
      const i = graph.from[k]!;
      const j = graph.to[k]!;
      if (i === j || i < 0 || j < 0 || i >= n || j >= n) throw new RangeError(`invalid edge ${k}: ${i}-${j}`);
      this.endpoint[2 * k] = i;
      this.endpoint[2 * k + 1] = j;
      const wk = graph.weight[k]!;
      this.w[k] = wk;
      if (wk > maxWeight) maxWeight = wk;
      degree[i + 1]!++;
      degree[j + 1]!++;
    }
    for (let v = 0; v < n; v++) degree[v + 1]! += degree[v]!;
    this.adjStart = degree;
    this.adj = new Int32Array(2 * m);
    const fill = degree.slice(0, n);
    for (let k = 0; k < m; k++) {
      const i = this.endpoint[2 * k]!;
      const j = this.endpoint[2 * k + 1]!;
      this.adj[fill[i]!++] = 2 * k + 1;
      this.adj[fill[j]!++] = 2 * k;
    }
    this.mate = new Int32Array(n).fill(-1);
    this.label = new Int8Array(2 * n);
    this.labelEnd = new Int32Array(2 * n).fill(-1);
    this.inBlossom = new Int32Array(n);
    for (let v = 0; v < n; v++) this.inBlossom[v] = v;
    this.blossomParent = new Int32Array(2 * n).fill(-1);
    this.blossomChilds = new Array(2 * n).fill(null);
    this.blossomBase = new Int32Array(2 * n).fill(-1);
    for (let v = 0; v < n; v++) this.blossomBase[v] = v;
    this.blossomEndps = new Array(2 * n).fill(null);
    this.bestEdge = new Int32Array(2 * n).fill(-1);
    this.blossomBestEdges = new Array(2 * n).fill(null);
    this.unusedBlossoms = [];
    for (let b = 2 * n - 1; b >= n; b--) this.unusedBlossoms.push(b);
    this.dual = new Float64Array(2 * n);
    for (let v = 0; v < n; v++) this.dual[v] = maxWeight;
    this.allowEdge = new Uint8Array(m);
    this.bestEdgeTo = new Int32Array(2 * n).fill(-1);
    this.vertexStamp = new Int32Array(n);
    this.blossomStamp = new Int32Array(2 * n);
    this.freeStamp = new Int32Array(n);
  }

  touchVertex(v: number): void {
    if (this.vertexStamp[v] !== this.stamp) {
      this.vertexStamp[v] = this.stamp;
      this.touchedVertices.push(v);
    }
  }

  touchBlossom(b: number): void {
    if (this.blossomStamp[b] !== this.stamp) {
      this.blossomStamp[b] = this.stamp;
      this.touchedBlossoms.push(b);
    }
  }

  slack(k: number): number {
    return this.dual[this.endpoint[2 * k]!]! + this.dual[this.endpoint[2 * k + 1]!]! - 2 * this.w[k]!;
  }

  /** Appends the leaf vertices of (possibly nested) blossom b to `out`. */
  leaves(b: number, out: number[]): number[] {
    if (b < this.n) {
      out.push(b);
      return out;
    }
    const stack = [b];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x < this.n) {
        out.push(x);
        continue;
      }
      const childs = this.blossomChilds[x]!;
      for (let i = childs.length - 1; i >= 0; i--) stack.push(childs[i]!);
    }
    return out;
  }

  assignLabel(w0: number, t0: number, p0: number): void {
    // Iterative form of the recursive labelling: a T-blossom labels the mate of its base S.
    let w = w0;
    let t = t0;
    let p = p0;
    for (;;) {
      const b = this.inBlossom[w]!;
      this.label[w] = t;
      this.label[b] = t;
      this.labelEnd[w] = p;
      this.labelEnd[b] = p;
      this.bestEdge[w] = -1;
      this.bestEdge[b] = -1;
      if (b < this.n) {
        this.touchVertex(b);
        if (t === S) {
          this.queue.push(b);
          return;
        }
      } else {
        this.touchBlossom(b);
        for (const v of this.leaves(b, [])) {
          this.touchVertex(v);
          if (t === S) this.queue.push(v);
        }
        if (t === S) return;
      }
      const base = this.blossomBase[b]!;
      const mateP = this.mate[base]!;
      w = this.endpoint[mateP]!;
      t = S;
      p = mateP ^ 1;
    }
  }

  /** Traces back from v and w to find a new blossom's base (≥ 0) or an augmenting path (−1). */
  scanBlossom(v0: number, w0: number): number {
    const path: number[] = [];
    let base = -1;
    let v = v0;
    let w = w0;
    while (v !== -1 || w !== -1) {
      let b = this.inBlossom[v]!;
      if (this.label[b]! & BREADCRUMB) {
        base = this.blossomBase[b]!;
        break;
      }
      path.push(b);
      this.label[b] = S | BREADCRUMB;
      if (this.labelEnd[b] === -1) {
        v = -1;
      } else {
        v = this.endpoint[this.labelEnd[b]!]!;
        b = this.inBlossom[v]!;
        v = this.endpoint[this.labelEnd[b]!]!;
      }
      if (w !== -1) {
        const tmp = v;
        v = w;
        w = tmp;
      }
    }
    for (const b of path) this.label[b] = S;
    return base;
  }

  addBlossom(base: number, k: number): void {
    let v = this.endpoint[2 * k]!;
    let w = this.endpoint[2 * k + 1]!;
    const bb = this.inBlossom[base]!;
    let bv = this.inBlossom[v]!;
    let bw = this.inBlossom[w]!;
    const b = this.unusedBlossoms.pop()!;
    this.touchBlossom(b);
    this.blossomBase[b] = base;
    this.blossomParent[b] = -1;
    this.blossomParent[bb] = b;
    const path: number[] = [];
    const endps: number[] = [];
    while (bv !== bb) {
      this.blossomParent[bv] = b;
      path.push(bv);
      endps.push(this.labelEnd[bv]!);
      v = this.endpoint[this.labelEnd[bv]!]!;
      bv = this.inBlossom[v]!;
    }
    path.push(bb);
    path.reverse();
    endps.reverse();
    endps.push(2 * k);
    while (bw !== bb) {
      this.blossomParent[bw] = b;
      path.push(bw);
      endps.push(this.labelEnd[bw]! ^ 1);
      w = this.endpoint[this.labelEnd[bw]!]!;
      bw = this.inBlossom[w]!;
    }
    this.blossomChilds[b] = path;
    this.blossomEndps[b] = endps;
    this.label[b] = S;
    this.labelEnd[b] = this.labelEnd[bb]!;
    this.dual[b] = 0;
    for (const x of this.leaves(b, [])) {
      if (this.label[this.inBlossom[x]!] === T) this.queue.push(x);
      this.inBlossom[x] = b;
    }
    // Merge the children's best edges to other S-blossoms (keeps delta3 at O(n) per step).
    const bestEdgeTo = this.bestEdgeTo;
    const touched: number[] = [];
    const consider = (k2: number): void => {
      let j = this.endpoint[2 * k2 + 1]!;
      if (this.inBlossom[j] === b) j = this.endpoint[2 * k2]!;
      const bj = this.inBlossom[j]!;
      if (bj !== b && this.label[bj] === S) {
        const cur = bestEdgeTo[bj]!;
        if (cur === -1) {
          bestEdgeTo[bj] = k2;
          touched.push(bj);
        } else if (this.slack(k2) < this.slack(cur)) {
          bestEdgeTo[bj] = k2;
        }
      }
    };
    for (const child of path) {
      const list = this.blossomBestEdges[child];
      if (list === null || list === undefined) {
        for (const x of this.leaves(child, [])) {
          for (let a = this.adjStart[x]!, end = this.adjStart[x + 1]!; a < end; a++) consider(this.adj[a]! >> 1);
        }
      } else {
        for (const k2 of list) consider(k2);
      }
      this.blossomBestEdges[child] = null;
      this.bestEdge[child] = -1;
    }
    touched.sort((x, y) => x - y);
    const best: number[] = [];
    let bestK = -1;
    let bestSlack = 0;
    for (const bj of touched) {
      const k2 = bestEdgeTo[bj]!;
      bestEdgeTo[bj] = -1;
      best.push(k2);
      const s = this.slack(k2);
      if (bestK === -1 || s < bestSlack) {
        bestK = k2;
        bestSlack = s;
      }
    }
    this.blossomBestEdges[b] = best;
    this.bestEdge[b] = bestK;
  }

  expandBlossom(b: number, endStage: boolean): void {
    const childs = this.blossomChilds[b]!;
    for (const s of childs) {
      this.blossomParent[s] = -1;
      if (s < this.n) this.inBlossom[s] = s;
      else if (endStage && this.dual[s] === 0) this.expandBlossom(s, endStage);
      else for (const v of this.leaves(s, [])) this.inBlossom[v] = s;
    }
    if (!endStage && this.label[b] === T) {
      // The children become top-level blossoms of this stage: their duals now move with labels.
      for (const s of childs) if (s >= this.n) this.touchBlossom(s);
      // Relabel the children on the even-length path from the entry child to the base.
      const endps = this.blossomEndps[b]!;
      const len = childs.length;
      const at = (arr: number[], i: number): number => arr[i < 0 ? i + len : i]!;
      const entryChild = this.inBlossom[this.endpoint[this.labelEnd[b]! ^ 1]!]!;
      let { j, jStep, endpTrick } = blossomWalk(childs.indexOf(entryChild), len);
      let p = this.labelEnd[b]!;
      while (j !== 0) {
        this.label[this.endpoint[p ^ 1]!] = FREE;
        this.label[this.endpoint[at(endps, j - endpTrick) ^ endpTrick ^ 1]!] = FREE;
        this.assignLabel(this.endpoint[p ^ 1]!, T, p);
        this.allowEdge[at(endps, j - endpTrick) >> 1] = 1;
        j += jStep;
        p = at(endps, j - endpTrick) ^ endpTrick;
        this.allowEdge[p >> 1] = 1;
        j += jStep;
      }
      const bv = at(childs, j);
      this.label[this.endpoint[p ^ 1]!] = T;
      this.label[bv] = T;
      this.labelEnd[this.endpoint[p ^ 1]!] = p;
      this.labelEnd[bv] = p;
      this.bestEdge[bv] = -1;
      j += jStep;
      while (at(childs, j) !== entryChild) {
        const bx = at(childs, j);
        if (this.label[bx] === S) {
          j += jStep;
          continue;
        }
        let labelled = -1;
        for (const v of this.leaves(bx, [])) {
          if (this.label[v] !== FREE) {
            labelled = v;
            break;
          }
        }
        if (labelled !== -1) {
          this.label[labelled] = FREE;
          this.label[this.endpoint[this.mate[this.blossomBase[bx]!]!]!] = FREE;
          this.assignLabel(labelled, T, this.labelEnd[labelled]!);
        }
        j += jStep;
      }
    }
    this.label[b] = -1;
    this.labelEnd[b] = -1;
    this.blossomChilds[b] = null;
    this.blossomEndps[b] = null;
    this.blossomBase[b] = -1;
    this.blossomBestEdges[b] = null;
    this.bestEdge[b] = -1;
    this.unusedBlossoms.push(b);
  }

  /** Swaps matched/unmatched edges along the even path from v to the base of blossom b. */
  augmentBlossom(b: number, v: number): void {
    let t = v;
    while (this.blossomParent[t] !== b) t = this.blossomParent[t]!;
    if (t >= this.n) this.augmentBlossom(t, v);
    const childs = this.blossomChilds[b]!;
    const endps = this.blossomEndps[b]!;
    const len = childs.length;
    const at = (arr: number[], i: number): number => arr[i < 0 ? i + len : i]!;
    const i = childs.indexOf(t);
    let { j, jStep, endpTrick } = blossomWalk(i, len);
    while (j !== 0) {
      j += jStep;
      let c = at(childs, j);
      const p = at(endps, j - endpTrick) ^ endpTrick;
      if (c >= this.n) this.augmentBlossom(c, this.endpoint[p]!);
      j += jStep;
      c = at(childs, j);
      if (c >= this.n) this.augmentBlossom(c, this.endpoint[p ^ 1]!);
      this.mate[this.endpoint[p]!] = p ^ 1;
      this.mate[this.endpoint[p ^ 1]!] = p;
    }
    this.blossomChilds[b] = childs.slice(i).concat(childs.slice(0, i));
    this.blossomEndps[b] = endps.slice(i).concat(endps.slice(0, i));
    this.blossomBase[b] = this.blossomBase[this.blossomChilds[b]![0]!]!;
  }

  augmentMatching(k: number): void {
    const starts: [number, number][] = [
      [this.endpoint[2 * k]!, 2 * k + 1],
      [this.endpoint[2 * k + 1]!, 2 * k],
    ];
    for (const [s0, p0] of starts) {
      let s = s0;
      let p = p0;
      for (;;) {
        const bs = this.inBlossom[s]!;
        if (bs >= this.n) this.augmentBlossom(bs, s);
        this.mate[s] = p;
        if (this.labelEnd[bs] === -1) break;
        const t = this.endpoint[this.labelEnd[bs]!]!;
        const bt = this.inBlossom[t]!;
        s = this.endpoint[this.labelEnd[bt]!]!;
        const j = this.endpoint[this.labelEnd[bt]! ^ 1]!;
        if (bt >= this.n) this.augmentBlossom(bt, j);
        this.mate[j] = this.labelEnd[bt]!;
        p = this.labelEnd[bt]! ^ 1;
      }
    }
  }

  run(): void {
    const { n, endpoint, label, inBlossom, bestEdge, allowEdge, dual, blossomParent, blossomBase } = this;
    for (let stage = 0; stage < n; stage++) {
      label.fill(FREE);
      bestEdge.fill(-1);
      for (let b = n; b < 2 * n; b++) this.blossomBestEdges[b] = null;
      allowEdge.fill(0);
      this.queue.length = 0;
      this.stamp++;
      this.touchedVertices.length = 0;
      this.touchedBlossoms.length = 0;
      this.freeWithBestEdge.length = 0;
      const touchedV = this.touchedVertices;
      const touchedB = this.touchedBlossoms;
      for (let v = 0; v < n; v++) {
        if (this.mate[v] === -1 && label[inBlossom[v]!] === FREE) this.assignLabel(v, S, -1);
      }
      let augmented = false;
      for (;;) {
        while (this.queue.length > 0 && !augmented) {
          const v = this.queue.pop()!;
          for (let a = this.adjStart[v]!, end = this.adjStart[v + 1]!; a < end; a++) {
            const p = this.adj[a]!;
            const k = p >> 1;
            const w = endpoint[p]!;
            if (inBlossom[v] === inBlossom[w]) continue;
            let kSlack = 0;
            if (!allowEdge[k]) {
              kSlack = this.slack(k);
              if (kSlack <= 0) allowEdge[k] = 1;
            }
            if (allowEdge[k]) {
              const lw = label[inBlossom[w]!]!;
              if (lw === FREE) {
                this.assignLabel(w, T, p ^ 1);
              } else if (lw === S) {
                const base = this.scanBlossom(v, w);
                if (base >= 0) {
                  this.addBlossom(base, k);
                } else {
                  this.augmentMatching(k);
                  augmented = true;
                  break;
                }
              } else if (label[w] === FREE) {
                label[w] = T;
                this.labelEnd[w] = p ^ 1;
              }
            } else if (label[inBlossom[w]!] === S) {
              const b = inBlossom[v]!;
              if (bestEdge[b] === -1 || kSlack < this.slack(bestEdge[b]!)) bestEdge[b] = k;
            } else if (label[w] === FREE) {
              if (bestEdge[w] === -1 || kSlack < this.slack(bestEdge[w]!)) bestEdge[w] = k;
              if (this.freeStamp[w] !== this.stamp) {
                this.freeStamp[w] = this.stamp;
                this.freeWithBestEdge.push(w);
              }
            }
          }
        }
        if (augmented) break;

        // Dual step: the smallest change that makes a new edge tight or a blossom expandable.
        // Only labelled vertices / blossoms change duals; the touched lists are supersets.
        let deltaType = 1;
        let delta = Number.POSITIVE_INFINITY;
        for (const v of touchedV) if (label[inBlossom[v]!] === S && dual[v]! < delta) delta = dual[v]!;
        let deltaEdge = -1;
        let deltaBlossom = -1;
        for (const v of this.freeWithBestEdge) {
          if (label[inBlossom[v]!] === FREE && bestEdge[v] !== -1) {
            const d = this.slack(bestEdge[v]!);
            if (d < delta) {
              delta = d;
              deltaType = 2;
              deltaEdge = bestEdge[v]!;
            }
          }
        }
        for (const v of touchedV) {
          if (blossomParent[v] === -1 && label[v] === S && bestEdge[v] !== -1) {
            const d = this.slack(bestEdge[v]!) / 2;
            if (d < delta) {
              delta = d;
              deltaType = 3;
              deltaEdge = bestEdge[v]!;
            }
          }
        }
        for (const b of touchedB) {
          if (blossomBase[b]! < 0 || blossomParent[b] !== -1) continue;
          if (label[b] === S && bestEdge[b] !== -1) {
            const d = this.slack(bestEdge[b]!) / 2;
            if (d < delta) {
              delta = d;
              deltaType = 3;
              deltaEdge = bestEdge[b]!;
            }
          } else if (label[b] === T && dual[b]! < delta) {
            delta = dual[b]!;
            deltaType = 4;
            deltaBlossom = b;
          }
        }
        if (delta < 0) delta = 0;
        for (const v of touchedV) {
          const l = label[inBlossom[v]!];
          if (l === S) dual[v] = dual[v]! - delta;
          else if (l === T) dual[v] = dual[v]! + delta;
        }
        for (const b of touchedB) {
          if (blossomBase[b]! >= 0 && blossomParent[b] === -1) {
            if (label[b] === S) dual[b] = dual[b]! + delta;
            else if (label[b] === T) dual[b] = dual[b]! - delta;
          }
        }
        if (deltaType === 1) break;
        if (deltaType === 2) {
          allowEdge[deltaEdge] = 1;
          let i = endpoint[2 * deltaEdge]!;
          if (label[inBlossom[i]!] === FREE) i = endpoint[2 * deltaEdge + 1]!;
          this.queue.push(i);
        } else if (deltaType === 3) {
          allowEdge[deltaEdge] = 1;
          this.queue.push(endpoint[2 * deltaEdge]!);
        } else {
          this.expandBlossom(deltaBlossom, false);
        }
      }
      if (!augmented) break;
      for (let b = n; b < 2 * n; b++) {
        if (blossomParent[b] === -1 && blossomBase[b]! >= 0 && label[b] === S && dual[b] === 0) {
          this.expandBlossom(b, true);
        }
      }
    }
  }
}

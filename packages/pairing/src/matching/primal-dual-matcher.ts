import { blossomWalk } from './blossom-walk.js';
import { EventHeap } from './event-heap.js';
import type { WeightedEdges } from './max-weight-matching.js';

/**
 * Maximum-weight matching by Edmonds' primal–dual blossom algorithm, organised for warm starts
 * on large sparse graphs (the pairing's exact path up to 100,000 entries):
 *
 * - **Warm start.** It starts from any matching and any *feasible* duals (every edge's slack
 *   `Y(i) + Y(j) − 2w ≥ 0`, matched edges tight; duals `Y` are doubled, so they stay integers).
 *   A free vertex with a positive dual is a *defect*; only defects are searched from. A good
 *   warm start leaves few defects, each repaired by a small local search.
 * - **One alternating tree at a time** (a "Hungarian" search per defect): the tree grows from the
 *   defect until an augmenting path is found (to any free vertex), or some outer vertex's dual
 *   reaches 0 (then the even path from the root to it is flipped: the root gets matched, that
 *   vertex is left free with a zero dual). Either way one defect is gone, and no new one appears.
 * - **Lazy duals and an event heap.** A tree vertex stores its dual at the level `Δ` it was
 *   labelled; its current dual is `stored ∓ (Δ − mark)`. A dual step is then O(1): the next event
 *   (an edge becoming tight, an outer dual reaching 0, an inner blossom's dual reaching 0) is the
 *   smallest key of a binary heap, checked when popped (stale entries are skipped). The cost of a
 *   search is about O(tree edges · log), not O(n) per dual step.
 * - Blossoms are the classic ones (shrunk odd cycles with an augmentation rotation) and are kept
 *   across searches while their dual is positive. The top-level blossom of a vertex is found
 *   through ancestor hints with path compression, so nesting deep blossoms costs no relabelling.
 *
 * The final duals are an optimal solution of Edmonds' odd-set LP and certify the matching:
 * see {@link DualCertificate}.
 */

const FREE = 0;
const S = 1;
const T = 2;
const BREADCRUMB = 4;

const EV_ZERO_VERTEX = 0;
const EV_GROW = 1;
const EV_SS = 2;
const EV_ZERO_BLOSSOM = 3;
/**
 * Event payload: `rank << 29 | id << 2 | type`. Among events of equal key the heap pops the lower
 * payload first, so the rank orders them: edges between two outer nodes (an augmentation between
 * trees, or a blossom) first, then growth, then dual-zero events — a tree stops growing over tight
 * edges as soon as it can augment. Ids stay below 2^27 (edges < 2^26).
 */
const ID_MASK = (1 << 29) - 1;
const RANK_SS = 0;
const RANK_GROW = 1 << 29;
const RANK_ZERO = 2 << 29;

/** Optimal duals: `dual[v]` doubled vertex duals (0 … n−1), `dual[b]` doubled blossom duals (n … 2n−1). */
export interface DualCertificate {
  mate: Int32Array;
  /**
   * Doubled duals: for every edge (i, j, w), `dual[i] + dual[j] + Σ dual[B] − 2w ≥ 0`, summed over
   * the blossoms B ≥ n that contain both i and j (through `blossomParent`), with equality on
   * matched edges; `dual` is 0 on free vertices and ≥ 0 everywhere.
   */
  dual: Float64Array;
  /** Enclosing blossom of each vertex / blossom, or −1. */
  blossomParent: Int32Array;
  /** Searches run (defects of the warm start). */
  searches: number;
}

export class PrimalDualMatcher {
  readonly n: number;
  m = 0;
  endpoint: Int32Array;
  w: Float64Array;
  adjStart: Int32Array;
  adj: Int32Array;
  /** Remote endpoint of v's matched edge, or −1. */
  readonly mate: Int32Array;
  /** Stored doubled vertex duals (current value via {@link yOf}). */
  readonly dual: Float64Array;
  private readonly sign: Int8Array;
  private readonly mark: Float64Array;
  /** Stored doubled blossom duals at n … 2n−1 (current value via {@link zOf}). */
  readonly zdual: Float64Array;
  private readonly zsign: Int8Array;
  private readonly zmark: Float64Array;
  private readonly label: Int8Array;
  private readonly labelEnd: Int32Array;
  private readonly hint: Int32Array;
  /** Generation of each blossom id (bumped when freed) and of each hint's target when set. */
  private readonly gen: Int32Array;
  private readonly hintGen: Int32Array;
  readonly blossomParent: Int32Array;
  private readonly blossomChilds: (number[] | null)[];
  private readonly blossomEndps: (number[] | null)[];
  private readonly blossomBase: Int32Array;
  private readonly unusedBlossoms: number[] = [];
  private readonly heap: EventHeap;
  private readonly buffers: MatcherBuffers;
  /**
   * Per vertex: the key of the growth event queued into it, when it is the best one (an edge
   * from an outer node that gives no earlier event is not queued; when the best goes stale, the
   * vertex's edges are scanned again: {@link growInto}).
   */
  private readonly bestGrow: Float64Array;
  private delta = 0;
  /** Per tree (indexed by its root): the vertices and blossoms it labelled or changed. */
  private readonly members: (number[] | null)[];
  /** Root + 1 of the tree whose member list holds x (0: none). */
  private readonly owner: Int32Array;
  /** Root of the tree of a labelled top-level vertex or blossom. */
  private readonly treeOf: Int32Array;
  /** The tree being worked on (the root of the event's tree). */
  private tree = -1;
  private liveTrees = 0;
  /** Scratch of {@link leaves} (its answer is valid until the next call) and its stack. */
  private readonly leafBuffer: number[] = [];
  private readonly leafStack: number[] = [];
  /** Scratch: the members of the trees being dissolved. */
  private readonly dissolving: number[] = [];
  searches = 0;

  constructor(graph: WeightedEdges) {
    const n = graph.vertexCount;
    this.n = n;
    // The buffers of the last finished matcher when they are large enough (a pass allocated ~25
    // arrays of n or 2n entries and the collector freed them again; see MatcherBuffers).
    const buffers = MatcherBuffers.take(n, graph.edgeCount);
    this.buffers = buffers;
    this.endpoint = new Int32Array(0);
    this.w = new Float64Array(0);
    this.adjStart = new Int32Array(n + 1);
    this.adj = new Int32Array(0);
    this.mate = buffers.mate.subarray(0, n).fill(-1);
    this.bestGrow = buffers.bestGrow.subarray(0, n).fill(Number.POSITIVE_INFINITY);
    this.dual = buffers.dual.subarray(0, n).fill(0);
    this.sign = buffers.sign.subarray(0, n).fill(0);
    this.mark = buffers.mark.subarray(0, n).fill(0);
    this.zdual = buffers.zdual.subarray(0, 2 * n).fill(0);
    this.zsign = buffers.zsign.subarray(0, 2 * n).fill(0);
    this.zmark = buffers.zmark.subarray(0, 2 * n).fill(0);
    this.label = buffers.label.subarray(0, 2 * n).fill(0);
    this.labelEnd = buffers.labelEnd.subarray(0, 2 * n).fill(-1);
    this.hint = buffers.hint.subarray(0, 2 * n);
    for (let x = 0; x < 2 * n; x++) this.hint[x] = x;
    this.gen = buffers.gen.subarray(0, 2 * n).fill(0);
    this.hintGen = buffers.hintGen.subarray(0, 2 * n).fill(0);
    this.blossomParent = buffers.blossomParent.subarray(0, 2 * n).fill(-1);
    this.blossomChilds = buffers.blossomChilds;
    this.blossomEndps = buffers.blossomEndps;
    for (let x = 0; x < 2 * n; x++) {
      this.blossomChilds[x] = null;
      this.blossomEndps[x] = null;
    }
    this.blossomBase = buffers.blossomBase.subarray(0, 2 * n).fill(-1);
    for (let v = 0; v < n; v++) this.blossomBase[v] = v;
    for (let b = 2 * n - 1; b >= n; b--) this.unusedBlossoms.push(b);
    this.members = buffers.members;
    for (let v = 0; v < n; v++) this.members[v] = null;
    this.owner = buffers.owner.subarray(0, 2 * n).fill(0);
    this.treeOf = buffers.treeOf.subarray(0, 2 * n).fill(-1);
    this.heap = buffers.heap;
    this.heap.clear();
    this.setEdges(graph);
  }

  private setEdges(graph: WeightedEdges): void {
    const n = this.n;
    const m = graph.edgeCount;
    if (m >= 2 ** 26 || n >= 2 ** 26)
      throw new RangeError(`graph too large for the event encoding: ${n} vertices, ${m} edges`);
    this.m = m;
    const buffers = this.buffers;
    this.endpoint = buffers.endpoint.subarray(0, 2 * m);
    this.w = buffers.w.subarray(0, m);
    const degree = buffers.adjStart.subarray(0, n + 1).fill(0);
    for (let k = 0; k < m; k++) {
      const i = graph.from[k]!;
      const j = graph.to[k]!;
      if (i === j || i < 0 || j < 0 || i >= n || j >= n) throw new RangeError(`invalid edge ${k}: ${i}-${j}`);
      this.endpoint[2 * k] = i;
      this.endpoint[2 * k + 1] = j;
      this.w[k] = graph.weight[k]!;
      degree[i + 1]!++;
      degree[j + 1]!++;
    }
    for (let v = 0; v < n; v++) degree[v + 1]! += degree[v]!;
    this.adjStart = degree;
    this.adj = buffers.adj.subarray(0, 2 * m);
    const fill = buffers.fill.subarray(0, n);
    fill.set(degree.subarray(0, n));
    for (let k = 0; k < m; k++) {
      this.adj[fill[this.endpoint[2 * k]!]!++] = 2 * k + 1;
      this.adj[fill[this.endpoint[2 * k + 1]!]!++] = 2 * k;
    }
  }

  /**
   * Sets the starting point: `mateOf[v]` (a vertex or −1; each pair must be an edge) and doubled
   * vertex duals `dual`, which must be feasible with every matched edge tight.
   */
  warmStart(mateOf: Int32Array, dual: Float64Array): void {
    const { n, adj, adjStart, endpoint } = this;
    this.dual.set(dual);
    for (let v = 0; v < n; v++) {
      const u = mateOf[v]!;
      if (u < 0 || u < v) continue;
      let found = -1;
      for (let a = adjStart[v]!, end = adjStart[v + 1]!; a < end; a++) {
        if (endpoint[adj[a]!] === u) {
          found = adj[a]!;
          break;
        }
      }
      if (found < 0) throw new RangeError(`warm start pairs ${v} and ${u}, which share no edge`);
      if (this.slackOf(found >> 1) !== 0) throw new RangeError(`warm start pair ${v}-${u} is not tight`);
      this.mate[v] = found;
      this.mate[u] = found ^ 1;
    }
  }

  /** Grows an alternating tree from every defect (free vertex with a positive dual), all at once. */
  solve(): DualCertificate {
    const { n, mate, dual } = this;
    this.delta = 0;
    for (let v = 0; v < n; v++) {
      if (mate[v] !== -1 || dual[v]! <= 0) continue;
      this.searches++;
      this.liveTrees++;
      this.members[v] = [];
      this.tree = v;
      this.assignLabel(v, S, -1);
    }
    this.run();
    this.delta = 0;
    const mateOf = new Int32Array(n).fill(-1);
    for (let v = 0; v < n; v++) if (mate[v]! >= 0) mateOf[v] = this.endpoint[mate[v]!]!;
    const out = new Float64Array(2 * n);
    out.set(dual);
    for (let b = n; b < 2 * n; b++) if (this.blossomBase[b]! >= 0) out[b] = this.zdual[b]!;
    const blossomParent = this.blossomParent.slice();
    MatcherBuffers.release(this.buffers);
    return { mate: mateOf, dual: out, blossomParent, searches: this.searches };
  }

  /** The doubled slack of edge k with stored duals (valid between searches, endpoints in different tops). */
  slackOf(k: number): number {
    return this.dual[this.endpoint[2 * k]!]! + this.dual[this.endpoint[2 * k + 1]!]! - 2 * this.w[k]!;
  }

  private yOf(v: number): number {
    return this.dual[v]! + this.sign[v]! * (this.delta - this.mark[v]!);
  }

  private zOf(b: number): number {
    return this.zdual[b]! + this.zsign[b]! * (this.delta - this.zmark[b]!);
  }

  private slack2(k: number): number {
    return this.yOf(this.endpoint[2 * k]!) + this.yOf(this.endpoint[2 * k + 1]!) - 2 * this.w[k]!;
  }

  private touch(x: number): void {
    const t = this.tree;
    if (t >= 0 && this.owner[x] !== t + 1) {
      this.owner[x] = t + 1;
      this.members[t]!.push(x);
    }
  }

  private setVertexSign(v: number, s: number): void {
    this.dual[v] = this.yOf(v);
    this.mark[v] = this.delta;
    this.sign[v] = s;
    this.touch(v);
  }

  private setBlossomSign(b: number, s: number): void {
    this.zdual[b] = this.zOf(b);
    this.zmark[b] = this.delta;
    this.zsign[b] = s;
    this.touch(b);
  }

  /**
   * The top-level blossom containing x (x itself when it is top-level). A hint is an ancestor
   * seen before; it stays one while that blossom holds its children (blossoms only gain
   * ancestors until they are dissolved), and dissolving a blossom bumps its generation, which
   * voids every hint to it.
   */
  top(x: number): number {
    const parent = this.blossomParent;
    if (parent[x] === -1) return x;
    const { hint, hintGen, gen } = this;
    let y = x;
    while (parent[y] !== -1) {
      const h = hint[y]!;
      y = h !== y && hintGen[y] === gen[h] ? h : parent[y]!;
    }
    let z = x;
    const g = gen[y]!;
    while (z !== y) {
      const h = hint[z]!;
      const next = h !== z && hintGen[z] === gen[h] ? h : parent[z]!;
      hint[z] = y;
      hintGen[z] = g;
      z = next;
    }
    return y;
  }

  /** Leaf vertices of blossom b (b itself for a vertex), in a buffer reused by the next call. */
  private leaves(b: number): number[] {
    const out = this.leafBuffer;
    out.length = 0;
    if (b < this.n) {
      out.push(b);
      return out;
    }
    const stack = this.leafStack;
    stack.length = 0;
    stack.push(b);
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

  /** Queues growth through endpoint p (towards vertex endpoint[p]) unless an earlier one is queued. */
  private pushGrow(p: number, key: number): void {
    const u = this.endpoint[p]!;
    if (key < this.bestGrow[u]!) {
      this.bestGrow[u] = key;
      this.heap.push(key, RANK_GROW | (p * 4 + EV_GROW));
    }
  }

  /** Queues the best growth into unlabelled vertex u from the outer nodes of the trees. */
  private growInto(u: number): void {
    const { adj, endpoint, label } = this;
    const bu = this.top(u);
    for (let a = this.adjStart[u]!, end = this.adjStart[u + 1]!; a < end; a++) {
      const q = adj[a]!;
      const bo = this.top(endpoint[q]!);
      if (bo !== bu && label[bo] === S) this.pushGrow(q ^ 1, this.delta + this.slack2(q >> 1));
    }
  }

  /** Events for a vertex that just became outer (S): its zero-dual time and its edges. */
  private outerVertexEvents(v: number): void {
    const { heap, delta, endpoint, adj, label, blossomParent, dual, sign, mark, w } = this;
    const yv = this.yOf(v);
    heap.push(delta + yv, RANK_ZERO | (v * 4 + EV_ZERO_VERTEX));
    const bv = this.top(v);
    for (let a = this.adjStart[v]!, end = this.adjStart[v + 1]!; a < end; a++) {
      const p = adj[a]!;
      const u = endpoint[p]!;
      const bu = blossomParent[u] === -1 ? u : this.top(u);
      if (bu === bv) continue;
      const lu = label[bu];
      if (lu !== FREE && lu !== S) continue;
      // The edge's doubled slack (slack2, with v's dual read once).
      const slack = yv + (dual[u]! + sign[u]! * (delta - mark[u]!)) - 2 * w[p >> 1]!;
      if (lu === FREE) this.pushGrow(p, delta + slack);
      else heap.push(delta + slack / 2, RANK_SS | ((p >> 1) * 4 + EV_SS));
    }
  }

  /**
   * Labels the top-level node of w (and, for T, its mate's as S, and so on). With `signsKept`, w's
   * node is a T child of an expanding T blossom: its leaves already have the inner sign.
   */
  private assignLabel(w0: number, t0: number, p0: number, signsKept = false): void {
    let w = w0;
    let t = t0;
    let p = p0;
    let kept = signsKept;
    for (;;) {
      const b = this.top(w);
      this.label[w] = t;
      this.labelEnd[w] = p;
      this.touch(w);
      this.label[b] = t;
      this.labelEnd[b] = p;
      this.treeOf[b] = this.tree;
      this.touch(b);
      const s = t === S ? -1 : 1;
      if (b < this.n) {
        this.setVertexSign(b, s);
        if (t === S) {
          this.outerVertexEvents(b);
          return;
        }
      } else {
        this.setBlossomSign(b, t === S ? 2 : -2);
        if (t === S) {
          const leaves = this.leaves(b);
          for (const v of leaves) this.setVertexSign(v, s);
          for (const v of leaves) this.outerVertexEvents(v);
          return;
        }
        if (!kept) for (const v of this.leaves(b)) this.setVertexSign(v, s);
        this.heap.push(this.delta + this.zOf(b) / 2, RANK_ZERO | (b * 4 + EV_ZERO_BLOSSOM));
      }
      kept = false;
      const mateP = this.mate[this.blossomBase[b]!]!;
      w = this.endpoint[mateP]!;
      t = S;
      p = mateP ^ 1;
    }
  }

  /** Traces back from v and w to find a new blossom's base (≥ 0) or an augmenting path (−1). */
  private scanBlossom(v0: number, w0: number): number {
    const path: number[] = [];
    let base = -1;
    let v = v0;
    let w = w0;
    while (v !== -1 || w !== -1) {
      let b = this.top(v);
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
        b = this.top(v);
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

  private addBlossom(base: number, k: number): void {
    let v = this.endpoint[2 * k]!;
    let w = this.endpoint[2 * k + 1]!;
    const bb = this.top(base);
    let bv = this.top(v);
    let bw = this.top(w);
    const path: number[] = [];
    const endps: number[] = [];
    while (bv !== bb) {
      path.push(bv);
      endps.push(this.labelEnd[bv]!);
      v = this.endpoint[this.labelEnd[bv]!]!;
      bv = this.top(v);
    }
    path.push(bb);
    path.reverse();
    endps.reverse();
    endps.push(2 * k);
    while (bw !== bb) {
      path.push(bw);
      endps.push(this.labelEnd[bw]! ^ 1);
      w = this.endpoint[this.labelEnd[bw]!]!;
      bw = this.top(w);
    }
    const b = this.unusedBlossoms.pop()!;
    this.blossomBase[b] = base;
    this.blossomParent[b] = -1;
    this.hint[b] = b;
    this.blossomChilds[b] = path;
    this.blossomEndps[b] = endps;
    this.label[b] = S;
    this.labelEnd[b] = this.labelEnd[bb]!;
    this.treeOf[b] = this.tree;
    this.zdual[b] = 0;
    this.zmark[b] = this.delta;
    this.zsign[b] = 2;
    this.touch(b);
    const newOuter: number[] = [];
    for (const c of path) {
      this.blossomParent[c] = b;
      this.hint[c] = b;
      this.hintGen[c] = this.gen[b]!;
      if (c >= this.n) this.setBlossomSign(c, 0);
      if (this.label[c] === T) {
        for (const x of this.leaves(c)) {
          this.setVertexSign(x, -1);
          newOuter.push(x);
        }
      }
    }
    for (const x of newOuter) this.outerVertexEvents(x);
  }

  /** Makes the children of top-level blossom b top-level (every hint to b dies with it). */
  private detachChildren(b: number): void {
    this.gen[b]!++;
    for (const c of this.blossomChilds[b]!) {
      this.blossomParent[c] = -1;
      this.label[c] = FREE;
      this.labelEnd[c] = -1;
      this.touch(c);
    }
  }

  private freeBlossom(b: number): void {
    this.label[b] = FREE;
    this.labelEnd[b] = -1;
    this.blossomChilds[b] = null;
    this.blossomEndps[b] = null;
    this.blossomBase[b] = -1;
    this.zdual[b] = 0;
    this.zsign[b] = 0;
    this.hint[b] = b;
    this.gen[b]!++;
    this.unusedBlossoms.push(b);
  }

  /** End of a search: a top-level blossom with a zero dual is dissolved (recursively). */
  private expandAtEnd(b0: number): void {
    const stack = [b0];
    while (stack.length > 0) {
      const b = stack.pop()!;
      const childs = this.blossomChilds[b]!;
      this.detachChildren(b);
      for (const s of childs) if (s >= this.n && this.zdual[s] === 0) stack.push(s);
      this.freeBlossom(b);
    }
  }

  /** An inner (T) blossom whose dual reached 0 during a search: expand and relabel its children. */
  private expandInner(b: number): void {
    const { n, endpoint } = this;
    const childs = this.blossomChilds[b]!;
    const endps = this.blossomEndps[b]!;
    // Every leaf of b is inner (sign +1): children relabelled T keep it, S children and the
    // children left unlabelled get theirs below.
    this.detachChildren(b);
    const len = childs.length;
    const entryChild = this.top(endpoint[this.labelEnd[b]! ^ 1]!);
    let { j, jStep, endpTrick } = blossomWalk(childs.indexOf(entryChild), len);
    let p = this.labelEnd[b]!;
    while (j !== 0) {
      this.label[endpoint[p ^ 1]!] = FREE;
      this.label[endpoint[at(endps, len, j - endpTrick) ^ endpTrick ^ 1]!] = FREE;
      this.assignLabel(endpoint[p ^ 1]!, T, p, true);
      j += jStep;
      p = at(endps, len, j - endpTrick) ^ endpTrick;
      j += jStep;
    }
    const bv = at(childs, len, j);
    const entry = endpoint[p ^ 1]!;
    this.label[entry] = T;
    this.labelEnd[entry] = p;
    this.touch(entry);
    this.label[bv] = T;
    this.labelEnd[bv] = p;
    this.treeOf[bv] = this.tree;
    this.touch(bv);
    if (bv >= n) {
      this.setBlossomSign(bv, -2);
      this.heap.push(this.delta + this.zOf(bv) / 2, RANK_ZERO | (bv * 4 + EV_ZERO_BLOSSOM));
    }
    j += jStep;
    while (at(childs, len, j) !== entryChild) {
      const bx = at(childs, len, j);
      if (this.label[bx] === FREE) {
        // Unreached now (dual fixed): edges from outer vertices to it can become tight again.
        for (const x of this.leaves(bx)) {
          this.setVertexSign(x, 0);
          for (let a = this.adjStart[x]!, end = this.adjStart[x + 1]!; a < end; a++) {
            const q = this.adj[a]!;
            if (this.label[this.top(endpoint[q]!)] === S) {
              this.pushGrow(q ^ 1, this.delta + this.slack2(q >> 1));
            }
          }
        }
      }
      j += jStep;
    }
    this.freeBlossom(b);
  }

  /** Swaps matched/unmatched edges inside b so that v becomes its base (iterative over nesting). */
  private augmentBlossom(b0: number, v0: number): void {
    const tasks = [b0, v0];
    while (tasks.length > 0) {
      const v = tasks.pop()!;
      const b = tasks.pop()!;
      let t = v;
      while (this.blossomParent[t] !== b) t = this.blossomParent[t]!;
      if (t >= this.n) tasks.push(t, v);
      const childs = this.blossomChilds[b]!;
      const endps = this.blossomEndps[b]!;
      const len = childs.length;
      const i = childs.indexOf(t);
      let { j, jStep, endpTrick } = blossomWalk(i, len);
      while (j !== 0) {
        j += jStep;
        let c = at(childs, len, j);
        const p = at(endps, len, j - endpTrick) ^ endpTrick;
        if (c >= this.n) tasks.push(c, this.endpoint[p]!);
        j += jStep;
        c = at(childs, len, j);
        if (c >= this.n) tasks.push(c, this.endpoint[p ^ 1]!);
        this.mate[this.endpoint[p]!] = p ^ 1;
        this.mate[this.endpoint[p ^ 1]!] = p;
      }
      rotateLeft(childs, i);
      rotateLeft(endps, i);
      this.blossomBase[b] = v;
    }
  }

  /**
   * Flips the alternating path from vertex s0 (outer) up to its tree's root; s0 gets matched
   * through endpoint p0 (or is left free when p0 = −1).
   */
  private flipToRoot(s0: number, p0: number): void {
    let s = s0;
    let p = p0;
    for (;;) {
      const bs = this.top(s);
      if (bs >= this.n) this.augmentBlossom(bs, s);
      this.mate[s] = p;
      if (this.labelEnd[bs] === -1) break;
      const t = this.endpoint[this.labelEnd[bs]!]!;
      const bt = this.top(t);
      s = this.endpoint[this.labelEnd[bt]!]!;
      const j = this.endpoint[this.labelEnd[bt]! ^ 1]!;
      if (bt >= this.n) this.augmentBlossom(bt, j);
      this.mate[j] = this.labelEnd[bt]!;
      p = this.labelEnd[bt]! ^ 1;
    }
  }

  /**
   * The event loop of all trees at once (one Δ for all): a tight edge from a tree to an
   * unlabelled node grows it (or augments, when that node is free); a tight edge between two
   * outer nodes makes a blossom (same tree) or augments between two trees (both roots matched);
   * an outer vertex whose dual reaches 0 is left free and its root matched; an inner blossom whose
   * dual reaches 0 is expanded. Trees whose root got matched are dissolved (see {@link dissolve});
   * the others keep growing.
   */
  private run(): void {
    const { heap, endpoint, label, treeOf } = this;
    while (this.liveTrees > 0) {
      if (heap.size === 0) throw new Error('matching search ran out of events (infeasible warm start)');
      const key = heap.topKey();
      const payload = heap.topPayload();
      heap.pop();
      if (key > this.delta) this.delta = key;
      const id = (payload & ID_MASK) >> 2;
      switch (payload & 3) {
        case EV_ZERO_VERTEX: {
          const b = this.top(id);
          if (label[b] !== S || this.yOf(id) !== 0) continue;
          const t = treeOf[b]!;
          this.tree = t;
          this.flipToRoot(id, -1);
          this.dissolve(t, -1);
          continue;
        }
        case EV_GROW: {
          const k = id >> 1;
          const u = endpoint[id]!;
          const bs = this.top(endpoint[id ^ 1]!);
          const bu = this.top(u);
          if (bu === bs || label[bs] !== S || label[bu] !== FREE || this.slack2(k) !== 0) {
            // The queued best growth into u went stale: find u's best edge from the trees again.
            if (key === this.bestGrow[u]) {
              this.bestGrow[u] = Number.POSITIVE_INFINITY;
              if (label[bu] === FREE) this.growInto(u);
            }
            continue;
          }
          this.bestGrow[u] = Number.POSITIVE_INFINITY;
          const t = treeOf[bs]!;
          this.tree = t;
          if (this.mate[this.blossomBase[bu]!] === -1) {
            this.augmentEdge(k);
            this.dissolve(t, -1);
            continue;
          }
          this.assignLabel(u, T, id ^ 1);
          continue;
        }
        case EV_SS: {
          const a = endpoint[2 * id]!;
          const b = endpoint[2 * id + 1]!;
          const ta = this.top(a);
          const tb = this.top(b);
          if (ta === tb || label[ta] !== S || label[tb] !== S || this.slack2(id) !== 0) continue;
          this.tree = treeOf[ta]!;
          if (treeOf[ta] === treeOf[tb]) {
            this.addBlossom(this.scanBlossom(a, b), id);
            continue;
          }
          const other = treeOf[tb]!;
          this.augmentEdge(id);
          this.dissolve(this.tree, other);
          continue;
        }
        default: {
          if (this.blossomParent[id] !== -1 || this.blossomBase[id]! < 0 || label[id] !== T || this.zOf(id) !== 0) {
            continue;
          }
          this.tree = treeOf[id]!;
          this.expandInner(id);
        }
      }
    }
    heap.clear();
  }

  /** Augments through edge k: each endpoint's side is flipped back to its root (or is free). */
  private augmentEdge(k: number): void {
    const v = this.endpoint[2 * k]!;
    const w = this.endpoint[2 * k + 1]!;
    this.flipToRoot(v, 2 * k + 1);
    this.flipToRoot(w, 2 * k);
  }

  /**
   * Ends trees t1 (and t2 when ≥ 0) after their roots got matched: their duals are fixed at the
   * current Δ, outer top-level blossoms with a zero dual are dissolved, labels are cleared, and
   * edges from the remaining trees' outer vertices to the freed vertices get new events.
   */
  private dissolve(t1: number, t2: number): void {
    const { n, owner } = this;
    this.tree = -1;
    const all = this.dissolving;
    all.length = 0;
    for (let k = 0; k < 2; k++) {
      const t = k === 0 ? t1 : t2;
      if (t < 0) continue;
      for (const x of this.members[t]!) if (owner[x] === t + 1) all.push(x);
      this.members[t] = null;
      this.liveTrees--;
    }
    for (const x of all) {
      if (x < n) {
        this.dual[x] = this.yOf(x);
        this.sign[x] = 0;
      } else if (this.zsign[x] !== 0) {
        this.zdual[x] = this.zOf(x);
        this.zsign[x] = 0;
      }
    }
    for (const b of all) {
      if (b >= n && this.blossomBase[b]! >= 0 && this.blossomParent[b] === -1 && this.zdual[b] === 0) {
        if (this.label[b] === S) this.expandAtEnd(b);
      }
    }
    for (const x of all) {
      this.label[x] = FREE;
      this.labelEnd[x] = -1;
      owner[x] = 0;
      this.treeOf[x] = -1;
    }
    if (this.liveTrees === 0) return;
    const { adj, adjStart, endpoint, label, blossomParent, dual, sign, mark, w, delta } = this;
    for (const x of all) {
      if (x >= n) continue;
      // x is out of every tree now (sign 0): its dual is dual[x].
      const yx = dual[x]!;
      for (let a = adjStart[x]!, end = adjStart[x + 1]!; a < end; a++) {
        const q = adj[a]!;
        const u = endpoint[q]!;
        if (label[blossomParent[u] === -1 ? u : this.top(u)] !== S) continue;
        this.pushGrow(q ^ 1, delta + (dual[u]! + sign[u]! * (delta - mark[u]!) + yx - 2 * w[q >> 1]!));
      }
    }
  }
}

/**
 * The matcher's arrays, kept for the next matcher of this thread (passes run one after another):
 * allocating and collecting them again on every pass cost ~5–10 % of a pass. A matcher takes them
 * in its constructor when they are free and large enough (else it allocates its own), resets the
 * part it uses, and gives them back at the end of {@link PrimalDualMatcher.solve} after copying
 * everything its certificate returns; a matcher that is never solved keeps them (the next one then
 * allocates). Grown, never shrunk, past a pool of a few thousand entries they are reused as is.
 */
class MatcherBuffers {
  private static free: MatcherBuffers | null = null;

  readonly mate: Int32Array;
  readonly bestGrow: Float64Array;
  readonly dual: Float64Array;
  readonly sign: Int8Array;
  readonly mark: Float64Array;
  readonly zdual: Float64Array;
  readonly zsign: Int8Array;
  readonly zmark: Float64Array;
  readonly label: Int8Array;
  readonly labelEnd: Int32Array;
  readonly hint: Int32Array;
  readonly gen: Int32Array;
  readonly hintGen: Int32Array;
  readonly blossomParent: Int32Array;
  readonly blossomChilds: (number[] | null)[];
  readonly blossomEndps: (number[] | null)[];
  readonly blossomBase: Int32Array;
  readonly members: (number[] | null)[];
  readonly owner: Int32Array;
  readonly treeOf: Int32Array;
  readonly adjStart: Int32Array;
  readonly fill: Int32Array;
  readonly endpoint: Int32Array;
  readonly w: Float64Array;
  readonly adj: Int32Array;
  readonly heap = new EventHeap(4096);

  constructor(
    readonly vertices: number,
    readonly edges: number,
  ) {
    const n = vertices;
    this.mate = new Int32Array(n);
    this.bestGrow = new Float64Array(n);
    this.dual = new Float64Array(n);
    this.sign = new Int8Array(n);
    this.mark = new Float64Array(n);
    this.zdual = new Float64Array(2 * n);
    this.zsign = new Int8Array(2 * n);
    this.zmark = new Float64Array(2 * n);
    this.label = new Int8Array(2 * n);
    this.labelEnd = new Int32Array(2 * n);
    this.hint = new Int32Array(2 * n);
    this.gen = new Int32Array(2 * n);
    this.hintGen = new Int32Array(2 * n);
    this.blossomParent = new Int32Array(2 * n);
    this.blossomChilds = new Array(2 * n).fill(null);
    this.blossomEndps = new Array(2 * n).fill(null);
    this.blossomBase = new Int32Array(2 * n);
    this.members = new Array(n).fill(null);
    this.owner = new Int32Array(2 * n);
    this.treeOf = new Int32Array(2 * n);
    this.adjStart = new Int32Array(n + 1);
    this.fill = new Int32Array(n);
    this.endpoint = new Int32Array(2 * edges);
    this.w = new Float64Array(edges);
    this.adj = new Int32Array(2 * edges);
  }

  /** The free buffers when they fit n vertices and m edges, else new ones (sized with room). */
  static take(n: number, m: number): MatcherBuffers {
    const cached = MatcherBuffers.free;
    if (cached && cached.vertices >= n && cached.edges >= m) {
      MatcherBuffers.free = null;
      return cached;
    }
    // Small graphs (tests, small pools) get buffers of their own and leave the cache alone.
    if (n < 1_024) return new MatcherBuffers(n, m);
    MatcherBuffers.free = null;
    return new MatcherBuffers(Math.max(n, cached?.vertices ?? 0), Math.max(m + (m >> 3), cached?.edges ?? 0));
  }

  static release(buffers: MatcherBuffers): void {
    if (buffers.vertices < 1_024) return;
    // Drop the blossoms' and trees' lists now rather than when the buffers are taken again.
    buffers.blossomChilds.fill(null);
    buffers.blossomEndps.fill(null);
    buffers.members.fill(null);
    buffers.heap.clear();
    MatcherBuffers.free = buffers;
  }
}

/** arr[i] for i in (−len, len): a cyclic index into a blossom's children or endpoints. */
function at(arr: number[], len: number, i: number): number {
  return arr[i < 0 ? i + len : i]!;
}

function reverse(arr: number[], from: number, to: number): void {
  for (let a = from, b = to - 1; a < b; a++, b--) {
    const tmp = arr[a]!;
    arr[a] = arr[b]!;
    arr[b] = tmp;
  }
}

/** Rotates arr left by i in place (three reversals, no allocation). */
function rotateLeft(arr: number[], i: number): void {
  if (i <= 0 || i >= arr.length) return;
  reverse(arr, 0, i);
  reverse(arr, i, arr.length);
  reverse(arr, 0, arr.length);
}

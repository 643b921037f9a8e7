import { maxWeightMatching } from '../matching/max-weight-matching.js';
import type { EdgeList } from './edge-list.js';

export interface ComponentSplit {
  /** Number of connected components with at least one edge. */
  components: number;
  /** Components larger than the exact limit, each as ascending vertex indices. */
  oversized: Int32Array[];
  /** Total weight of the exactly solved components' matchings. */
  exactWeight: number;
}

function find(parent: Int32Array, x: number): number {
  let r = x;
  while (parent[r] !== r) r = parent[r]!;
  let y = x;
  while (parent[y] !== r) {
    const next = parent[y]!;
    parent[y] = r;
    y = next;
  }
  return r;
}

/**
 * Splits the graph into connected components and solves every component of at most
 * `exactLimit` vertices with the exact maximum-weight matcher, writing partners into `mate`.
 * Bigger components are returned for the large-pool method.
 */
export function solveComponentsExactly(
  size: number,
  edges: EdgeList,
  mate: Int32Array,
  exactLimit: number,
): ComponentSplit {
  const parent = new Int32Array(size);
  for (let v = 0; v < size; v++) parent[v] = v;
  const m = edges.edgeCount;
  for (let k = 0; k < m; k++) {
    const a = find(parent, edges.from[k]!);
    const b = find(parent, edges.to[k]!);
    if (a !== b) {
      if (a < b) parent[b] = a;
      else parent[a] = b;
    }
  }
  // Component numbers in order of their smallest vertex; local indices in ascending vertex order.
  const compOf = new Int32Array(size).fill(-1);
  const local = new Int32Array(size);
  const compSizes: number[] = [];
  for (let v = 0; v < size; v++) {
    const r = find(parent, v);
    if (compOf[r] === -1) {
      compOf[r] = compSizes.length;
      compSizes.push(0);
    }
    const c = compOf[r]!;
    compOf[v] = c;
    local[v] = compSizes[c]!;
    compSizes[c]!++;
  }
  const compCount = compSizes.length;
  const edgeCountOf = new Int32Array(compCount + 1);
  for (let k = 0; k < m; k++) edgeCountOf[compOf[edges.from[k]!]! + 1]!++;
  for (let c = 0; c < compCount; c++) edgeCountOf[c + 1]! += edgeCountOf[c]!;
  const from = new Int32Array(m);
  const to = new Int32Array(m);
  const weight = new Float64Array(m);
  const fill = edgeCountOf.slice(0, compCount);
  for (let k = 0; k < m; k++) {
    const c = compOf[edges.from[k]!]!;
    const at = fill[c]!++;
    from[at] = local[edges.from[k]!]!;
    to[at] = local[edges.to[k]!]!;
    weight[at] = edges.weight[k]!;
  }
  const members: Int32Array[] = compSizes.map((s) => new Int32Array(s));
  const filled = new Int32Array(compCount);
  for (let v = 0; v < size; v++) {
    const c = compOf[v]!;
    members[c]![filled[c]!++] = v;
  }
  let components = 0;
  let exactWeight = 0;
  const oversized: Int32Array[] = [];
  for (let c = 0; c < compCount; c++) {
    const start = edgeCountOf[c]!;
    const end = edgeCountOf[c + 1]!;
    if (end === start) continue;
    components++;
    const vertices = members[c]!;
    if (vertices.length > exactLimit) {
      oversized.push(vertices);
      continue;
    }
    const localMate = maxWeightMatching({
      vertexCount: vertices.length,
      from: from.subarray(start, end),
      to: to.subarray(start, end),
      weight: weight.subarray(start, end),
      edgeCount: end - start,
    });
    for (let k = start; k < end; k++) {
      if (localMate[from[k]!] === to[k]) exactWeight += weight[k]!;
    }
    for (let t = 0; t < vertices.length; t++) {
      const p = localMate[t]!;
      if (p >= 0) mate[vertices[t]!] = vertices[p]!;
    }
  }
  return { components, oversized, exactWeight };
}

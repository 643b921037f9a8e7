// The reference port (yardstick only): edges [i, j, w] → mate array (−1 = unmatched).
declare module 'edmonds-blossom' {
  export default function blossom(edges: number[][], maxCardinality?: boolean): number[];
}

/** A growable list of weighted edges in flat typed arrays (the matcher's input format). */
export class EdgeList {
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
  edgeCount = 0;

  constructor(capacity = 64) {
    this.from = new Int32Array(capacity);
    this.to = new Int32Array(capacity);
    this.weight = new Float64Array(capacity);
  }

  /** Empties the list, keeping (and growing to at least `capacity`) its arrays. */
  reset(capacity: number): void {
    this.edgeCount = 0;
    while (this.from.length < capacity) this.grow();
  }

  push(i: number, j: number, w: number): void {
    if (this.edgeCount === this.from.length) this.grow();
    this.from[this.edgeCount] = i;
    this.to[this.edgeCount] = j;
    this.weight[this.edgeCount] = w;
    this.edgeCount++;
  }

  private grow(): void {
    const capacity = this.from.length * 2;
    const from = new Int32Array(capacity);
    const to = new Int32Array(capacity);
    const weight = new Float64Array(capacity);
    from.set(this.from);
    to.set(this.to);
    weight.set(this.weight);
    this.from = from;
    this.to = to;
    this.weight = weight;
  }
}

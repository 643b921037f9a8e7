/**
 * A binary min-heap of (key, payload) pairs in flat typed arrays: the event queue of the
 * primal–dual matcher (keys are integer dual levels, payloads encode an event). Ties pop in
 * payload order, so the matcher is deterministic whatever the push order of equal keys.
 */
export class EventHeap {
  private keys: Float64Array;
  private payloads: Int32Array;
  size = 0;

  constructor(capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.payloads = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  push(key: number, payload: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const payloads = this.payloads;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk < key || (pk === key && payloads[parent]! <= payload)) break;
      keys[i] = pk;
      payloads[i] = payloads[parent]!;
      i = parent;
    }
    keys[i] = key;
    payloads[i] = payload;
  }

  /** Key of the smallest element (the heap must not be empty). */
  topKey(): number {
    return this.keys[0]!;
  }

  topPayload(): number {
    return this.payloads[0]!;
  }

  /** Removes the smallest element. */
  pop(): void {
    const keys = this.keys;
    const payloads = this.payloads;
    const n = --this.size;
    if (n === 0) return;
    const key = keys[n]!;
    const payload = payloads[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (keys[r]! < keys[c]! || (keys[r] === keys[c] && payloads[r]! < payloads[c]!))) c = r;
      const ck = keys[c]!;
      if (key < ck || (key === ck && payload <= payloads[c]!)) break;
      keys[i] = ck;
      payloads[i] = payloads[c]!;
      i = c;
    }
    keys[i] = key;
    payloads[i] = payload;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const payloads = new Int32Array(this.payloads.length * 2);
    keys.set(this.keys);
    payloads.set(this.payloads);
    this.keys = keys;
    this.payloads = payloads;
  }
}

/**
 * Typed arrays kept between calls, by name (passes run one after another in a thread): allocating
 * some 20 arrays of n or 2n entries per pass and collecting them again cost a noticeable share of
 * a pass. A caller takes a view of the length it needs (the array is grown, never shrunk), sets
 * what it reads, and must not hand it out of the call: the next call reuses it.
 */
export class Scratch {
  private readonly int32s = new Map<string, Int32Array>();
  private readonly float64s = new Map<string, Float64Array>();
  private readonly uint8s = new Map<string, Uint8Array>();

  int32(name: string, length: number): Int32Array {
    let buffer = this.int32s.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Int32Array(length);
      this.int32s.set(name, buffer);
    }
    return buffer.subarray(0, length);
  }

  float64(name: string, length: number): Float64Array {
    let buffer = this.float64s.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Float64Array(length);
      this.float64s.set(name, buffer);
    }
    return buffer.subarray(0, length);
  }

  uint8(name: string, length: number): Uint8Array {
    let buffer = this.uint8s.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Uint8Array(length);
      this.uint8s.set(name, buffer);
    }
    return buffer.subarray(0, length);
  }
}

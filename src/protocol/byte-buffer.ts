const EMPTY = new Uint8Array(0);

/**
 * Unread input bytes for a framer: appended chunk by chunk, consumed from the front. A chunk that
 * arrives when nothing is pending is kept as is (no copy); bytes are copied only to join a
 * partial frame with the next chunk.
 */
export class ByteBuffer {
  bytes: Uint8Array = EMPTY;
  /** offset of the first unread byte in `bytes` */
  start = 0;

  get length(): number {
    return this.bytes.length - this.start;
  }

  /** Appends a chunk; returns by how much existing offsets into `bytes` moved back. */
  push(chunk: Uint8Array): number {
    if (chunk.length === 0) return 0;
    if (this.start >= this.bytes.length) {
      const moved = this.bytes.length;
      this.bytes = chunk;
      this.start = 0;
      return moved;
    }
    const rest = this.bytes.length - this.start;
    const joined = new Uint8Array(rest + chunk.length);
    joined.set(this.bytes.subarray(this.start), 0);
    joined.set(chunk, rest);
    const moved = this.start;
    this.bytes = joined;
    this.start = 0;
    return moved;
  }

  clear(): void {
    this.bytes = EMPTY;
    this.start = 0;
  }
}

/**
 * Splits a byte stream (a child's stdout) into whole device buffers of `frameBytes` each. Chunk boundaries fall
 * anywhere; bytes are copied once into a fresh buffer per frame, which the callback then owns.
 * INVARIANT: `partialBytes < frameBytes` after every push. `reset()` discards a partial frame (a restarted child
 * starts on a frame boundary, so leftovers of the dead one must not be glued to it).
 */
export class FrameSplitter {
  private buf: Uint8Array | undefined;
  private filled = 0;

  constructor(private readonly frameBytes: number) {}

  get partialBytes(): number {
    return this.filled;
  }

  push(chunk: Uint8Array, onFrame: (raw: Uint8Array) => void): void {
    let off = 0;
    while (off < chunk.length) {
      this.buf ??= new Uint8Array(this.frameBytes);
      const n = Math.min(this.frameBytes - this.filled, chunk.length - off);
      this.buf.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.frameBytes) {
        const full = this.buf;
        this.buf = undefined;
        this.filled = 0;
        onFrame(full);
      }
    }
  }

  reset(): void {
    this.filled = 0;
  }
}

/**
 * Exact-size reads over a stream of chunks (sequential access). Each read returns a fresh buffer of its
 * own, so a tensor never pins the chunk it came from and typed views over it start at offset 0.
 */
export class ChunkReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  private ended = false;
  /** Bytes consumed from the start of the stream. */
  position = 0;

  constructor(stream: AsyncIterable<Uint8Array>) {
    this.it = stream[Symbol.asyncIterator]();
  }

  /** Up to `n` bytes; fewer only at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n && (await this.fill())) {
      const take = Math.min(n - filled, this.chunk.byteLength - this.at);
      out.set(this.chunk.subarray(this.at, this.at + take), filled);
      this.at += take;
      filled += take;
    }
    this.position += filled;
    return filled === n ? out : out.subarray(0, filled);
  }

  /** Skips up to `n` bytes; returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.fill())) {
      const take = Math.min(n - skipped, this.chunk.byteLength - this.at);
      this.at += take;
      skipped += take;
    }
    this.position += skipped;
    return skipped;
  }

  /** Reads to the end (so an HTTP download completes and can be cached); returns the bytes drained. */
  async drain(): Promise<number> {
    return this.skip(Number.POSITIVE_INFINITY);
  }

  /** Stops the underlying stream early (cancels a download). */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }

  private async fill(): Promise<boolean> {
    while (this.at >= this.chunk.byteLength) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.chunk = r.value;
      this.at = 0;
    }
    return true;
  }
}

/**
 * Reuses GPU buffers by size class and usage. Sizes are rounded up to one of four classes per power of
 * two (2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k), so reuse wastes at most 25% while varied shapes still hit.
 * The pool knows nothing of kernels or tensors; GpuContext decides when a buffer may be released.
 *
 * A class hands out its oldest free buffer (lowest creation serial), so which buffer a request gets
 * depends only on which buffers are free, not on the order they came back. A forward pass that releases
 * its temporaries layer by layer (at submits) then gets the same buffers on every run, and the bind
 * groups cached for them hit: handing out the most recently released one instead permuted the buffers
 * from run to run, and a GPT-2 pass at T = 128 created ~44 bind groups and uniforms each time on the H200.
 */
export class BufferPool {
  /** Free buffers per class, by creation serial, highest first (pop() gives the oldest). */
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly serials = new WeakMap<GPUBuffer, number>();
  private nextSerial = 0;
  private readonly live = new Set<GPUBuffer>();
  private pooledBytes = 0;
  private liveBytes = 0;
  private peakLive = 0;
  /** The most bytes live at once since the last trim: what the largest run needs again next time. */
  private highWater = 0;
  /** When each free buffer came back (a counter): the pool evicts the longest-unused first. */
  private readonly releasedAt = new WeakMap<GPUBuffer, number>();
  private releases = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes = 512 * 1024 * 1024,
  ) {}

  static sizeClass(bytes: number): number {
    const n = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (n <= 256) return n;
    const p = 2 ** Math.floor(Math.log2(n));
    for (const f of [1, 1.25, 1.5, 1.75, 2]) {
      const c = Math.ceil((p * f) / 16) * 16;
      if (c >= n) return c;
    }
    return 2 * p;
  }

  acquire(bytes: number, usage: number, label: string): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const key = `${size}:${usage}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    let buffer = reused;
    if (buffer) this.pooledBytes -= size;
    else {
      buffer = this.device.createBuffer({ size, usage, label });
      this.serials.set(buffer, this.nextSerial++);
    }
    this.live.add(buffer);
    this.liveBytes += size;
    this.peakLive = Math.max(this.peakLive, this.liveBytes);
    this.highWater = Math.max(this.highWater, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return; // not ours, or released twice
    this.liveBytes -= buffer.size;
    // Keep up to what the largest run held at once (at least maxPooledBytes): a run of the same shape needs
    // it all again. A fixed 512 MiB destroyed ~245 MiB of a GPT-2 pass at T = 1024 every time on the H200,
    // and creating it again (createBuffer 4.6 ms, and submits that zero-fill new buffers) was a third of
    // recording the pass. Past that, the buffers free for longest go, not this one: destroying the newest
    // left the pool full of another run's sizes while the current run created its buffers anew every pass
    // (no-capture passes after capturing ones on the H200: 20 buffers created per pass, recording 2-6x slower).
    const cap = Math.max(this.maxPooledBytes, this.highWater);
    if (buffer.size > cap) {
      buffer.destroy();
      return;
    }
    while (this.pooledBytes + buffer.size > cap) this.evictLongestFree();
    this.releasedAt.set(buffer, this.releases++);
    const key = `${buffer.size}:${buffer.usage}`;
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    const serial = this.serials.get(buffer) ?? 0;
    let at = list.length;
    while (at > 0 && (this.serials.get(list[at - 1]!) ?? 0) < serial) at--;
    list.splice(at, 0, buffer);
    this.pooledBytes += buffer.size;
  }

  /** Destroys the free buffer released longest ago. */
  private evictLongestFree(): void {
    let oldest: { key: string; index: number; at: number } | undefined;
    for (const [key, list] of this.free) {
      list.forEach((b, index) => {
        const at = this.releasedAt.get(b) ?? 0;
        if (!oldest || at < oldest.at) oldest = { key, index, at };
      });
    }
    if (!oldest) return;
    const list = this.free.get(oldest.key)!;
    const [victim] = list.splice(oldest.index, 1);
    if (list.length === 0) this.free.delete(oldest.key);
    this.pooledBytes -= victim!.size;
    victim!.destroy();
  }

  /** `peakLiveBytes`: the most bytes held by callers at once since the last `resetPeak` (what a run needs). */
  get stats(): { liveBuffers: number; liveBytes: number; peakLiveBytes: number; pooledBuffers: number; pooledBytes: number } {
    let pooledBuffers = 0;
    for (const l of this.free.values()) pooledBuffers += l.length;
    return { liveBuffers: this.live.size, liveBytes: this.liveBytes, peakLiveBytes: this.peakLive, pooledBuffers, pooledBytes: this.pooledBytes };
  }

  resetPeak(): void {
    this.peakLive = this.liveBytes;
  }

  /** Destroys pooled (free) buffers; live ones stay with their owners. */
  trim(): void {
    for (const l of this.free.values()) for (const b of l) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
    this.highWater = this.liveBytes;
  }

  destroyAll(): void {
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.liveBytes = 0;
  }
}

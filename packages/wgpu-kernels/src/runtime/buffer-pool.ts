/**
 * Reuses GPU buffers by size class and usage. Sizes are rounded up to one of four classes per power of
 * two (2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k), so reuse wastes at most 25% while varied shapes still hit.
 * The pool knows nothing of kernels or tensors; GpuContext decides when a buffer may be released.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private pooledBytes = 0;
  private liveBytes = 0;
  private peakLive = 0;

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
    const buffer = reused ?? this.device.createBuffer({ size, usage, label });
    if (reused) this.pooledBytes -= size;
    this.live.add(buffer);
    this.liveBytes += size;
    this.peakLive = Math.max(this.peakLive, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return; // not ours, or released twice
    this.liveBytes -= buffer.size;
    if (this.pooledBytes + buffer.size > this.maxPooledBytes) {
      buffer.destroy();
      return;
    }
    const key = `${buffer.size}:${buffer.usage}`;
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    list.push(buffer);
    this.pooledBytes += buffer.size;
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
  }

  destroyAll(): void {
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.liveBytes = 0;
  }
}

import { BufferUsage, MapMode } from './usage.js';

export interface PassTiming {
  label: string;
  ms: number;
  /** Start of the pass, ms after the start of the first pass of the same read. */
  startMs: number;
}

/**
 * GPU-side pass timing with timestamp queries (only where the adapter has 'timestamp-query').
 * Each compute pass gets a begin/end pair; `read()` resolves them to milliseconds per label.
 */
export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly labels: string[] = [];
  /** Off: passes run untimed (a benchmark times wall clock without timestamp writes, then profiles). */
  enabled = true;
  /** On: every dispatch is its own timed pass (per-kernel times). Off: dispatches share passes, each timed. */
  perDispatch = true;

  constructor(
    private readonly device: GPUDevice,
    readonly capacity = 1024,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    this.resolveBuffer = device.createBuffer({
      size: capacity * 16,
      usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
    });
  }

  /** Timestamp writes for the next pass, or undefined when the set is full (the pass runs untimed). */
  nextPass(label: string): GPUComputePassTimestampWrites | undefined {
    const i = this.labels.length;
    if (i >= this.capacity || !this.enabled) return undefined;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Resolves all recorded passes, clears the list and returns their durations. Call after submit. */
  async read(): Promise<PassTiming[]> {
    const n = this.labels.length;
    if (n === 0) return [];
    const staging = this.device.createBuffer({ size: n * 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    enc.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, n * 16);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(MapMode.READ);
    const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
    staging.destroy();
    const labels = this.labels.splice(0);
    const t0 = ticks[0] ?? 0n;
    return labels.map((label, i) => ({
      label,
      ms: Number((ticks[2 * i + 1] ?? 0n) - (ticks[2 * i] ?? 0n)) / 1e6,
      startMs: Number((ticks[2 * i] ?? 0n) - t0) / 1e6,
    }));
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}

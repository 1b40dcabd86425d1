import type { BufferPool } from './buffer-pool.js';
import { BufferUsage } from './usage.js';

/** One binding as the cache sees it: a buffer range. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size?: number;
}

/** Entries kept; past this the oldest go (a GPT-2 forward uses ~200, a decode step adds ~5 per layer). */
const CAPACITY = 4096;

/**
 * Bind groups, with their uniform buffers, reused across dispatches that bind the same pipeline, buffer
 * ranges and params bytes. Creating a bind group and writing a uniform per dispatch cost most of the
 * ~65 µs that recording a matmul took; a forward pass repeats the same dispatches (weights, pooled
 * activations, same shapes), so after the first pass they are looked up. A cached uniform is written once
 * and never again, so commands recorded with it always read its params. Buffers are keyed by identity: a
 * released and re-acquired pooled buffer keeps its bind groups (they refer to the buffer, not its contents).
 */
export class BindGroupCache {
  private readonly entries = new Map<string, { group: GPUBindGroup; uniform: GPUBuffer | undefined }>();
  private readonly ids = new WeakMap<object, number>();
  private readonly layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private nextId = 1;
  hits = 0;
  misses = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    /** Receives uniforms of evicted entries: recorded commands may still use them until the next submit. */
    private readonly retire: (uniform: GPUBuffer) => void,
  ) {}

  private id(o: object): number {
    let i = this.ids.get(o);
    if (i === undefined) {
      i = this.nextId++;
      this.ids.set(o, i);
    }
    return i;
  }

  get(pipeline: GPUComputePipeline, ranges: readonly BufferRange[], params: Uint8Array | undefined, label: string): GPUBindGroup {
    let key = String(this.id(pipeline));
    for (const r of ranges) key += `|${this.id(r.buffer)}:${r.offset}:${r.size ?? -1}`;
    if (params) {
      key += '|';
      for (let i = 0; i < params.byteLength; i++) key += String.fromCharCode(params[i] as number);
    }
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      return hit.group;
    }
    this.misses++;
    const entries: GPUBindGroupEntry[] = ranges.map((r, i) => ({
      binding: i,
      resource: { buffer: r.buffer, offset: r.offset, ...(r.size !== undefined ? { size: r.size } : {}) },
    }));
    let uniform: GPUBuffer | undefined;
    if (params) {
      const size = Math.ceil(Math.max(16, params.byteLength) / 16) * 16;
      uniform = this.pool.acquire(size, BufferUsage.UNIFORM | BufferUsage.COPY_DST, `${label}.params`);
      this.device.queue.writeBuffer(uniform, 0, params.buffer, params.byteOffset, params.byteLength);
      entries.push({ binding: entries.length, resource: { buffer: uniform, offset: 0, size } });
    }
    let layout = this.layouts.get(pipeline);
    if (!layout) {
      layout = pipeline.getBindGroupLayout(0);
      this.layouts.set(pipeline, layout);
    }
    const group = this.device.createBindGroup({ layout, entries });
    if (this.entries.size >= CAPACITY) {
      const oldest = this.entries.keys().next().value as string;
      const old = this.entries.get(oldest);
      this.entries.delete(oldest);
      if (old?.uniform) this.retire(old.uniform);
    }
    this.entries.set(key, { group, uniform });
    return group;
  }

  get size(): number {
    return this.entries.size;
  }
}

import { type AttentionStats, attentionStats, type GpuContext, type GpuTensor } from '@headscope/wgpu-kernels';
import { type CapturedLayerOf, CapturedMaps, type HeadStats } from './captured-maps.js';

export type { HeadStats } from './captured-maps.js';
export type CapturedLayer = CapturedLayerOf<GpuTensor>;

/**
 * Every captured attention map of one run, kept on the GPU per layer. A head's T×Tk matrix is read back
 * only when asked for; per-head reductions are computed on the GPU and cached per layer.
 */
export class AttentionStore extends CapturedMaps<GpuTensor> {
  private readonly statsCache = new Map<number, AttentionStats>();

  constructor(
    private readonly ctx: GpuContext,
    layers: ReadonlyMap<number, CapturedLayer>,
    nHeads: number,
    queries: number,
    keys: number,
    queryOffset: number,
  ) {
    super(layers, nHeads, queries, keys, queryOffset);
  }

  async head(layer: number, head: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    this.checkHead(head);
    const n = this.queries * this.keys;
    return this.ctx.readF32(this.maps(layer, options.pre), head * n, n);
  }

  async layer(layer: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    return this.ctx.readF32(this.maps(layer, options.pre));
  }

  /** GPU reductions for one head (computed once per layer, read back per head). */
  async stats(layer: number, head: number): Promise<HeadStats> {
    this.checkHead(head);
    let s = this.statsCache.get(layer);
    if (!s) {
      s = attentionStats(this.ctx, { probs: this.maps(layer), queryOffset: this.queryOffset });
      this.statsCache.set(layer, s);
    }
    const T = this.queries;
    const K = this.keys;
    const [colMean, entropy, argmax, firstMass] = await Promise.all([
      this.ctx.readF32(s.colMean, head * K, K),
      this.ctx.readF32(s.entropy, head * T, T),
      this.ctx.readU32(s.argmax, head * T, T),
      this.ctx.readF32(s.firstMass, head * T, T),
    ]);
    return { colMean, entropy, argmax, firstMass };
  }

  /** Frees the GPU buffers; later reads throw. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const l of this.layers.values()) this.ctx.release(l.probs, l.pre);
    for (const s of this.statsCache.values()) this.ctx.release(s.colMean, s.entropy, s.argmax, s.firstMass);
    this.statsCache.clear();
  }
}

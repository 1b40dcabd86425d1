import { type AttentionStats, attentionStats, type GpuContext, type GpuTensor } from '@headscope/wgpu-kernels';

export interface CapturedLayer {
  /** [H, T, Tk] probabilities actually used (after any rewrite). */
  probs: GpuTensor;
  /** [H, T, Tk] probabilities before the post-softmax rewrite, when asked for. */
  pre?: GpuTensor;
}

export interface HeadStats {
  /** [Tk] column importance imp[j] (mean attention key j receives from the queries that see it). */
  colMean: Float32Array;
  /** [T] row entropy (nats). */
  entropy: Float32Array;
  /** [T] argmax key per query row. */
  argmax: Uint32Array;
  /** [T] attention on key 0 per query row. */
  firstMass: Float32Array;
}

/**
 * Every captured attention map of one run, kept on the GPU per layer. A head's T×Tk matrix is read back
 * only when asked for; per-head reductions are computed on the GPU and cached per layer.
 */
export class AttentionStore {
  private readonly statsCache = new Map<number, AttentionStats>();
  private released = false;

  constructor(
    private readonly ctx: GpuContext,
    private readonly layers: ReadonlyMap<number, CapturedLayer>,
    readonly nHeads: number,
    /** Query rows of this run. */
    readonly queries: number,
    /** Keys visible to the last query (past + queries). */
    readonly keys: number,
    /** Absolute position of query row 0 (KV-cache past length). */
    readonly queryOffset: number,
  ) {}

  get capturedLayers(): number[] {
    return [...this.layers.keys()].sort((a, b) => a - b);
  }

  has(layer: number, head?: number): boolean {
    return this.layers.has(layer) && (head === undefined || (head >= 0 && head < this.nHeads));
  }

  private get(layer: number, pre = false): GpuTensor {
    if (this.released) throw new Error('this attention capture was released (a newer run replaced it)');
    const l = this.layers.get(layer);
    if (!l) throw new RangeError(`layer ${layer} was not captured (captured: ${this.capturedLayers.join(', ') || 'none'})`);
    if (pre && !l.pre) throw new RangeError(`layer ${layer} has no pre-rewrite capture; run with capture.pre = true`);
    return pre ? l.pre! : l.probs;
  }

  /** One head's probabilities, row-major [queries, keys]. */
  async head(layer: number, head: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    if (head < 0 || head >= this.nHeads) throw new RangeError(`head ${head}: the model has heads 0..${this.nHeads - 1}`);
    const n = this.queries * this.keys;
    return this.ctx.readF32(this.get(layer, options.pre), head * n, n);
  }

  /** All heads of a layer, [H, queries, keys]. */
  async layer(layer: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    return this.ctx.readF32(this.get(layer, options.pre));
  }

  /** GPU reductions for one head (computed once per layer, read back per head). */
  async stats(layer: number, head: number): Promise<HeadStats> {
    let s = this.statsCache.get(layer);
    if (!s) {
      s = attentionStats(this.ctx, { probs: this.get(layer), queryOffset: this.queryOffset });
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

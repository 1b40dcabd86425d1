import { type AttentionStats, attentionStats, columnMean, type GpuContext, type GpuTensor, HEAD_SUMMARY_STRIDE, headSummary } from '@headscope/wgpu-kernels';
import { type CapturedLayerOf, CapturedMaps, type HeadStats, type RunSummary, type SummaryOptions } from './captured-maps.js';

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
    /** Reductions computed in the forward pass for layers without whole-layer maps (online softmax); owned from here on. */
    statsOnly: ReadonlyMap<number, AttentionStats> = new Map(),
    /** Per-head maps ([T, Tk] each) of layers captured with capture.heads; owned from here on. */
    private readonly headMaps: ReadonlyMap<number, ReadonlyMap<number, GpuTensor>> = new Map(),
    /** Takes the map buffers on release (the forward pass reuses them); default: back to the pool. */
    private readonly recycle?: (maps: GpuTensor[]) => void,
  ) {
    super(
      layers,
      nHeads,
      queries,
      keys,
      queryOffset,
      new Set(statsOnly.keys()),
      new Map([...headMaps].map(([l, m]) => [l, [...m.keys()].sort((a, b) => a - b)])),
    );
    for (const [l, s] of statsOnly) this.statsCache.set(l, s);
  }

  async head(layer: number, head: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    this.checkHead(head);
    const own = this.headMaps.get(layer);
    if (own && !options.pre) {
      const t = own.get(head);
      if (!t || this.released) this.maps(layer); // throws with what was kept
      return this.ctx.readF32(t!);
    }
    const n = this.queries * this.keys;
    return this.ctx.readF32(this.maps(layer, options.pre), head * n, n);
  }

  async layer(layer: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    const own = this.headMaps.get(layer);
    if (own && own.size === this.nHeads && !options.pre) {
      const n = this.queries * this.keys;
      const out = new Float32Array(this.nHeads * n);
      for (let h = 0; h < this.nHeads; h++) out.set(await this.head(layer, h), h * n);
      return out;
    }
    return this.ctx.readF32(this.maps(layer, options.pre));
  }

  /**
   * Argmax key of every row with reductions (captured maps or capture.stats), reduced on the GPU and read
   * back in one transfer: index (layerIndex·H + head)·T + row, layers in `statsLayers` order. Ties go to
   * the lower key.
   */
  async argmaxAll(): Promise<Uint32Array> {
    const layers = this.statsLayers;
    const per = this.nHeads * this.queries;
    if (layers.length === 0) return new Uint32Array(0);
    const out = this.ctx.createTensor([layers.length * per], 'u32', 'argmaxAll');
    layers.forEach((layer, i) => {
      this.ctx.copy(this.layerStats(layer).argmax, out, 0, i * per, per);
    });
    try {
      return await this.ctx.readU32(out);
    } finally {
      this.ctx.release(out);
    }
  }

  private layerStats(layer: number): AttentionStats {
    let s = this.statsCache.get(layer);
    if (!s) {
      s = attentionStats(this.ctx, { probs: this.maps(layer), queryOffset: this.queryOffset });
      this.statsCache.set(layer, s);
    }
    return s;
  }

  /** GPU reductions for one head (computed once per layer, read back per head). */
  async stats(layer: number, head: number): Promise<HeadStats> {
    this.checkHead(head);
    const s = this.layerStats(layer);
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

  /**
   * The head atlas's reductions of every captured layer, packed on the GPU into one buffer and read back
   * once: [H, 16] row sums and [H, Tk] column means per layer.
   */
  async summarize(options: SummaryOptions): Promise<RunSummary> {
    this.checkSummaryTokens(options.tokens);
    const layers = this.capturedLayers;
    const H = this.nHeads;
    const K = this.keys;
    const per = H * (HEAD_SUMMARY_STRIDE + K);
    const packed = this.ctx.createTensor([Math.max(1, layers.length * per)], 'f32', 'summary.packed');
    const tokens = this.ctx.upload(Uint32Array.from(options.tokens), [K], 'summary.tokens');
    layers.forEach((l, at) => {
      const probs = this.maps(l);
      const sums = headSummary(this.ctx, {
        probs,
        tokens,
        queryOffset: this.queryOffset,
        excludeBos: options.excludeBos ?? false,
        excludeCurrentToken: options.excludeCurrentToken ?? false,
        probeN: options.probeN ?? 0,
      });
      const col = columnMean(this.ctx, probs, this.queryOffset);
      this.ctx.copy(sums, packed, 0, at * per);
      this.ctx.copy(col, packed, 0, at * per + H * HEAD_SUMMARY_STRIDE);
      this.ctx.release(sums, col);
    });
    this.ctx.release(tokens);
    const all = await this.ctx.readF32(packed, 0, layers.length * per);
    this.ctx.release(packed);
    return splitSummary(all, layers, H, this.queries, K);
  }

  /** Frees the GPU buffers; later reads throw. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const maps = [...this.layers.values()].flatMap((l) => (l.pre ? [l.probs, l.pre] : [l.probs]));
    if (this.recycle) this.recycle(maps);
    else this.ctx.release(...maps);
    for (const m of this.headMaps.values()) this.ctx.release(...m.values());
    for (const s of this.statsCache.values()) this.ctx.release(s.colMean, s.entropy, s.argmax, s.firstMass);
    this.statsCache.clear();
  }
}

/** Unpacks [layers][H·16 sums | H·Tk imp] into the RunSummary arrays. */
export function splitSummary(all: Float32Array, layers: number[], nHeads: number, queries: number, keys: number): RunSummary {
  const per = nHeads * (HEAD_SUMMARY_STRIDE + keys);
  const sums = new Float32Array(layers.length * nHeads * HEAD_SUMMARY_STRIDE);
  const imp = new Float32Array(layers.length * nHeads * keys);
  layers.forEach((_, at) => {
    sums.set(all.subarray(at * per, at * per + nHeads * HEAD_SUMMARY_STRIDE), at * nHeads * HEAD_SUMMARY_STRIDE);
    imp.set(all.subarray(at * per + nHeads * HEAD_SUMMARY_STRIDE, (at + 1) * per), at * nHeads * keys);
  });
  return { layers, nHeads, queries, keys, sums, imp, bytesRead: all.byteLength, bytesCaptured: layers.length * nHeads * queries * keys * 4 };
}

import { type AttentionStatsRef, attentionStatsRef, HEAD_SUMMARY_STRIDE, headSummaryRef } from '@headscope/wgpu-kernels';
import { splitSummary } from './attention-store.js';
import { type CapturedLayerOf, CapturedMaps, type HeadStats, type RunSummary, type SummaryOptions } from './captured-maps.js';

export type CpuCapturedLayer = CapturedLayerOf<Float32Array>;

/**
 * The CPU path's captured attention, with the read API of AttentionStore (promises included, so callers
 * can hold either): head, layer, stats (attentionStatsRef per layer, cached), has, release.
 */
export class CpuAttentionStore extends CapturedMaps<Float32Array> {
  private readonly statsCache = new Map<number, AttentionStatsRef>();

  /** `statsOnly`: probabilities of layers whose reductions are wanted without keeping maps (reduced here, then dropped). */
  constructor(
    layers: ReadonlyMap<number, CpuCapturedLayer>,
    nHeads: number,
    queries: number,
    keys: number,
    queryOffset = 0,
    statsOnly: ReadonlyMap<number, Float32Array> = new Map(),
  ) {
    super(layers, nHeads, queries, keys, queryOffset, new Set(statsOnly.keys()));
    for (const [l, probs] of statsOnly) this.statsCache.set(l, attentionStatsRef(probs, nHeads, queries, keys, queryOffset));
  }

  /** One head's probabilities, row-major [queries, keys] (a copy). */
  async head(layer: number, head: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    this.checkHead(head);
    const n = this.queries * this.keys;
    return this.maps(layer, options.pre).slice(head * n, (head + 1) * n);
  }

  /** All heads of a layer, [H, queries, keys] (a copy). */
  async layer(layer: number, options: { pre?: boolean } = {}): Promise<Float32Array> {
    return this.maps(layer, options.pre).slice();
  }

  /** The per-head reductions of attentionStatsRef (computed once per layer). */
  async stats(layer: number, head: number): Promise<HeadStats> {
    this.checkHead(head);
    let s = this.statsCache.get(layer);
    if (!s) {
      s = attentionStatsRef(this.maps(layer), this.nHeads, this.queries, this.keys, this.queryOffset);
      this.statsCache.set(layer, s);
    }
    const T = this.queries;
    const K = this.keys;
    return {
      colMean: s.colMean.slice(head * K, (head + 1) * K),
      entropy: s.entropy.slice(head * T, (head + 1) * T),
      argmax: s.argmax.slice(head * T, (head + 1) * T),
      firstMass: s.firstMass.slice(head * T, (head + 1) * T),
    };
  }

  /** The head atlas's reductions from the CPU references (same layout as AttentionStore.summarize). */
  async summarize(options: SummaryOptions): Promise<RunSummary> {
    this.checkSummaryTokens(options.tokens);
    const layers = this.capturedLayers;
    const H = this.nHeads;
    const K = this.keys;
    const per = H * (HEAD_SUMMARY_STRIDE + K);
    const all = new Float32Array(layers.length * per);
    layers.forEach((l, at) => {
      const probs = this.maps(l);
      all.set(headSummaryRef(probs, H, this.queries, K, options.tokens, { ...options, queryOffset: this.queryOffset }), at * per);
      all.set(attentionStatsRef(probs, H, this.queries, K, this.queryOffset).colMean, at * per + H * HEAD_SUMMARY_STRIDE);
    });
    return splitSummary(all, layers, H, this.queries, K);
  }

  /** Drops the arrays; later reads throw. */
  release(): void {
    this.released = true;
    this.statsCache.clear();
  }
}

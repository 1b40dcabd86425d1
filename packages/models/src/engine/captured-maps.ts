export type LayerSelection = 'all' | 'none' | readonly number[];

/**
 * What a run keeps of its attention. Maps are per layer (all heads of a kept layer, T×Tk each); per-head
 * reductions need no maps (an online softmax and a second pass that recomputes the probabilities), so
 * they can cover every layer of a long prompt. Default: every layer's maps, as before budgets existed.
 */
export interface CaptureSpec {
  layers?: LayerSelection;
  /** Also keep the maps before the post-softmax rewrite (before/after views of ACT). */
  pre?: boolean;
  /** Layers whose per-head reductions (HeadStats) are computed without keeping maps. Default none. */
  stats?: LayerSelection;
  /**
   * Keep the maps of only these heads of the captured layers, each in its own [T, Tk] buffer (so a long
   * prompt's layer need not fit one binding); the layers' other heads get reductions. Default: all heads,
   * in one [H, T, Tk] buffer per layer. Not with `pre` or a post-softmax rewrite (those keep whole layers).
   */
  heads?: readonly number[];
}

function resolveLayers(layers: LayerSelection, nLayers: number, what: string): Set<number> {
  if (layers === 'none') return new Set();
  if (layers === 'all') return new Set(Array.from({ length: nLayers }, (_, i) => i));
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l >= nLayers) throw new RangeError(`${what} layer ${l}: the model has layers 0..${nLayers - 1}`);
  return new Set(layers);
}

/** The layers a spec captures (GPU and CPU forward passes alike); a layer the model lacks is a RangeError. */
export function resolveCapture(spec: CaptureSpec | undefined, nLayers: number): Set<number> {
  return resolveLayers(spec?.layers ?? 'all', nLayers, 'capture');
}

/** The layers whose reductions are wanted without their maps (layers whose maps are kept excluded). */
export function resolveStatsOnly(spec: CaptureSpec | undefined, nLayers: number): Set<number> {
  const maps = resolveCapture(spec, nLayers);
  const stats = resolveLayers(spec?.stats ?? 'none', nLayers, 'stats');
  for (const l of maps) stats.delete(l);
  return stats;
}

/**
 * The heads whose maps are kept one by one (capture.heads), or undefined for whole layers (also when `pre`
 * asks for the pre-rewrite copy, which the materialising kernel makes for whole layers only).
 */
export function resolveHeads(spec: CaptureSpec | undefined, nHeads: number): readonly number[] | undefined {
  if (!spec?.heads || spec.pre) return undefined;
  for (const h of spec.heads) if (!Number.isInteger(h) || h < 0 || h >= nHeads) throw new RangeError(`capture head ${h}: the model has heads 0..${nHeads - 1}`);
  return [...new Set(spec.heads)].sort((a, b) => a - b);
}

/** One captured layer: [H, T, Tk] probabilities after the rewrite, and before it when asked for. */
export interface CapturedLayerOf<T> {
  probs: T;
  pre?: T;
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

export { HEAD_SUMMARY_FIELDS, HEAD_SUMMARY_STRIDE } from '@headscope/wgpu-kernels';

export interface SummaryOptions {
  /** The token of every key position (the patterns of the TransformerLens scores are built from them). */
  tokens: readonly number[];
  excludeBos?: boolean;
  excludeCurrentToken?: boolean;
  /** Half length of a repeated random-token probe (its diagonals); 0 or absent for ordinary prompts. */
  probeN?: number;
}

/** Per-head reductions of every captured layer, as the head atlas reads them back (no T×T map). */
export interface RunSummary {
  layers: number[];
  nHeads: number;
  queries: number;
  keys: number;
  /** [layers, H, HEAD_SUMMARY_STRIDE] sums over the query rows, fields in HEAD_SUMMARY_FIELDS order. */
  sums: Float32Array;
  /** [layers, H, keys] column importance imp[j]. */
  imp: Float32Array;
  /** What came back from the GPU, against what the captured maps hold. */
  bytesRead: number;
  bytesCaptured: number;
}

/**
 * What every attention capture shares, wherever the maps live (GPU buffers or host arrays): the layer
 * bookkeeping, range checks with messages that say what exists, and release. Subclasses read.
 */
export abstract class CapturedMaps<T> {
  protected released = false;

  constructor(
    protected readonly layers: ReadonlyMap<number, CapturedLayerOf<T>>,
    readonly nHeads: number,
    /** Query rows of this run. */
    readonly queries: number,
    /** Keys visible to the last query (past + queries). */
    readonly keys: number,
    /** Absolute position of query row 0 (KV-cache past length). */
    readonly queryOffset: number,
    /** Layers with reductions but no whole-layer maps. */
    private readonly statsOnly: ReadonlySet<number> = new Set(),
    /** Layers whose maps were kept for some heads, each head on its own (capture.heads). */
    protected readonly keptHeads: ReadonlyMap<number, readonly number[]> = new Map(),
  ) {}

  /** Layers with maps: whole layers, and layers with the maps of some heads. */
  get capturedLayers(): number[] {
    return [...new Set([...this.layers.keys(), ...this.keptHeads.keys()])].sort((a, b) => a - b);
  }

  /** Layers whose `stats` can be read: those with maps and those with reductions only. */
  get statsLayers(): number[] {
    return [...new Set([...this.layers.keys(), ...this.statsOnly])].sort((a, b) => a - b);
  }

  hasStats(layer: number): boolean {
    return this.layers.has(layer) || this.statsOnly.has(layer);
  }

  /** Whether maps exist for the layer (some head of it) or for that head of it. */
  has(layer: number, head?: number): boolean {
    const kept = this.keptHeads.get(layer);
    if (kept) return head === undefined || kept.includes(head);
    return this.layers.has(layer) && (head === undefined || (head >= 0 && head < this.nHeads));
  }

  protected maps(layer: number, pre = false): T {
    if (this.released) throw new Error('this attention capture was released (a newer run replaced it)');
    const l = this.layers.get(layer);
    if (!l) {
      const kept = this.keptHeads.get(layer);
      const statsNote = kept
        ? `; only heads ${kept.join(', ')} were kept, each on its own (read them with head())`
        : this.statsOnly.has(layer)
          ? '; it has reductions only (stats), not maps'
          : '';
      throw new RangeError(`layer ${layer} was not captured (captured: ${this.capturedLayers.join(', ') || 'none'})${statsNote}`);
    }
    if (pre && !l.pre) throw new RangeError(`layer ${layer} has no pre-rewrite capture; run with capture.pre = true`);
    return pre ? l.pre! : l.probs;
  }

  protected checkHead(head: number): void {
    if (!Number.isInteger(head) || head < 0 || head >= this.nHeads) throw new RangeError(`head ${head}: the model has heads 0..${this.nHeads - 1}`);
  }

  /** One head's probabilities, row-major [queries, keys]. */
  abstract head(layer: number, head: number, options?: { pre?: boolean }): Promise<Float32Array>;
  /** All heads of a layer, [H, queries, keys]. */
  abstract layer(layer: number, options?: { pre?: boolean }): Promise<Float32Array>;
  /** Per-head reductions (column importance, entropy, argmax, first-key mass). */
  abstract stats(layer: number, head: number): Promise<HeadStats>;
  /** Head-atlas reductions of every captured layer (headSummary + column importance). */
  abstract summarize(options: SummaryOptions): Promise<RunSummary>;
  abstract release(): void;

  protected checkSummaryTokens(tokens: readonly number[]): void {
    if (tokens.length !== this.keys) throw new RangeError(`summarize needs one token per key (${this.keys}), got ${tokens.length}`);
  }
}

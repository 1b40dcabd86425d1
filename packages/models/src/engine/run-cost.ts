/**
 * What a forward pass will allocate, computed from shapes before anything runs: the app's prompt editor
 * and the CLI's run summary show it, and the forward pass refuses a run whose largest buffer exceeds the device's binding limit
 * (or whose total exceeds a caller's budget) with a RunTooLargeError instead of failing half-way.
 *
 * The figures mirror Transformer.forward and count every layer's activations: a layer's temporaries only
 * go back to the pool at a later submit, so on a short pass they may all be alive at once (on a long one
 * this is an upper bound). Pooled buffers are rounded to their pool size class, so the total bounds what
 * the buffer pool reports as the run's peak (test: capture-budget.test.ts).
 */
import { attentionScratchElements, BufferPool, formatBytes } from '@headscope/wgpu-kernels';
import { RunTooLargeError } from '../errors.js';
import { type CaptureSpec, resolveCapture, resolveHeads, resolveStatsOnly } from './captured-maps.js';

/** The shapes a run's memory depends on (ModelConfig provides them; `gatedMlp` is its mlp.gated). */
export interface RunShape {
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dModel: number;
  dHead: number;
  dFF: number;
  vocabSize: number;
  gatedMlp: boolean;
}

export interface RunCostOptions {
  /** New tokens of this pass. */
  tokens: number;
  /** Positions already in the KV cache. Default 0. */
  past?: number;
  capture?: CaptureSpec;
  /** 'none': the pass keeps the final norm's rows and makes logits on demand (not counted here). */
  logits?: 'all' | 'last' | 'none';
}

export interface RunCost {
  tokens: number;
  /** Keys the last query sees (past + tokens). */
  keys: number;
  /** Kept attention maps (layers × heads × tokens × keys, and the pre-rewrite copy when asked). */
  mapsBytes: number;
  mapLayers: number;
  /** Per-head reductions of every layer that has them (with or without maps). */
  statsBytes: number;
  statsLayers: number;
  /** Activations, kernel scratch and dispatch parameters held during the pass. */
  activationBytes: number;
  logitsBytes: number;
  /** All of the above: the GPU memory the pass adds to the loaded weights (and KV cache, if any). */
  totalBytes: number;
  /** The largest single buffer, which must fit the adapter's maxStorageBufferBindingSize. */
  largestBuffer: { what: string; bytes: number };
}

const F32 = 4;
/**
 * Uniform (params) buffers stay alive until the pass is submitted: an allowance per layer for about 32
 * dispatches of ≤ 64 bytes each (a layer records 12–20), and one per kept head's maps pass.
 */
const PARAMS_BYTES_PER_LAYER = 32 * 64;
const PARAMS_BYTES = 64;

/**
 * A layer that keeps no maps and no reductions still runs the materialising kernel, into one [H, T, keys]
 * score buffer shared by the pass's layers, while that buffer stays within this size: on the H200 it was
 * faster than the online softmax at every length measured (GPT-2 at T = 1024: 12.4 vs 14.2 ms a pass;
 * Qwen2.5-0.5B at 4,096: 149 vs 182 ms), and the bound keeps long prompts free of T² memory.
 */
export const SCORE_SCRATCH_BYTES = 256 * 2 ** 20;

/**
 * Shorter passes (decode steps, short prompts) keep the online softmax: one dispatch a layer instead of
 * three or four, and recording, not the GPU, bounds them (H200, GPT-2 at T = 128: same GPU time both ways).
 */
export const SCORE_SCRATCH_MIN_TOKENS = 256;

/** Whether a layer without maps or reductions materialises its scores (see SCORE_SCRATCH_BYTES). */
export function scoresFitScratch(nHeads: number, tokens: number, keys: number): boolean {
  return tokens >= SCORE_SCRATCH_MIN_TOKENS && nHeads * tokens * keys * 4 <= SCORE_SCRATCH_BYTES;
}

/** The pool rounds every allocation up to a size class. */
const pooled = (elements: number): number => BufferPool.sizeClass(Math.max(4, elements * F32));

export function estimateRunCost(shape: RunShape, options: RunCostOptions): RunCost {
  const { nLayers, nHeads: hq, nKvHeads: hkv, dModel: d, dHead: dh, dFF, vocabSize } = shape;
  const T = options.tokens;
  const keys = (options.past ?? 0) + T;
  const mapLayers = resolveCapture(options.capture, nLayers);
  const statsOnly = resolveStatsOnly(options.capture, nLayers);
  const pre = !!options.capture?.pre && mapLayers.size > 0;
  const keptHeads = mapLayers.size > 0 ? resolveHeads(options.capture, hq) : undefined;
  // Layers that run the online softmax with reductions: stats-only layers, and captured layers kept head by head.
  const flashStatsLayers = statsOnly.size + (keptHeads ? mapLayers.size : 0);
  let largest = { what: 'activations', bytes: 0 };
  const see = (what: string, bytes: number): number => {
    if (bytes > largest.bytes) largest = { what, bytes };
    return bytes;
  };

  // Per layer: ln1, q, k, v (and the fused Q|K|V product they are split from), attention output, W_O output,
  // ln2, MLP up (and gate), MLP output.
  const layerActivations =
    see('activations', pooled(T * d)) * 4 +
    pooled(T * (hq + 2 * hkv) * dh) +
    pooled(T * hq * dh) * 2 +
    pooled(T * hkv * dh) * 2 +
    see('the MLP activations', pooled(T * dFF)) * (shape.gatedMlp ? 2 : 1);
  let activationBytes = pooled(T) + pooled(T * d) + nLayers * (layerActivations + PARAMS_BYTES_PER_LAYER);
  const rowStats = pooled(5 * hq * T);
  activationBytes += flashStatsLayers * rowStats;
  // Layers with neither maps nor reductions share one score buffer when it is small enough.
  const scratchLayers = mapLayers.size + statsOnly.size < nLayers && scoresFitScratch(hq, T, keys);
  if (scratchLayers) activationBytes += see('the attention scores', pooled(hq * T * keys));
  if ((mapLayers.size > 0 && !keptHeads) || scratchLayers) {
    // The materialising kernel's split-K partial sums and softmax statistics: one buffer each per context,
    // reused by every layer.
    const { partials, sums, stats } = attentionScratchElements(T, keys, hq, dh, true);
    if (partials > 0) activationBytes += pooled(partials) + pooled(sums);
    activationBytes += pooled(stats);
  }
  const lastRows = options.logits === 'last' ? 1 : T;
  if (lastRows !== T) activationBytes += pooled(d);
  activationBytes += pooled(lastRows * d);

  let mapsBytes: number;
  if (keptHeads) {
    const headMaps = pooled(T * keys);
    if (keptHeads.length > 0) see('one head of attention maps', headMaps);
    mapsBytes = mapLayers.size * keptHeads.length * (headMaps + PARAMS_BYTES);
  } else {
    const layerMaps = pooled(hq * T * keys);
    if (mapLayers.size > 0) see('one layer of attention maps', layerMaps);
    mapsBytes = mapLayers.size * layerMaps * (pre ? 2 : 1);
  }
  const statsLayers = mapLayers.size + statsOnly.size;
  const statsBytes = statsLayers * (pooled(hq * keys) + 3 * pooled(hq * T));
  const logitsBytes = options.logits === 'none' ? 0 : see('the logits', pooled(lastRows * vocabSize));
  return {
    tokens: T,
    keys,
    mapsBytes,
    mapLayers: mapLayers.size,
    statsBytes,
    statsLayers,
    activationBytes,
    logitsBytes,
    totalBytes: mapsBytes + statsBytes + activationBytes + logitsBytes,
    largestBuffer: largest,
  };
}

/** One line for people: "1.2 GiB: maps 1.0 GiB (2 layers), reductions 3.1 MiB (24 layers), activations …". */
export function describeRunCost(c: RunCost): string {
  return (
    `${formatBytes(c.totalBytes)} of GPU memory for ${c.tokens} tokens: maps ${formatBytes(c.mapsBytes)} (${c.mapLayers} layers), ` +
    `reductions ${formatBytes(c.statsBytes)} (${c.statsLayers} layers), activations ${formatBytes(c.activationBytes)}, logits ${formatBytes(c.logitsBytes)}; ` +
    `largest buffer ${formatBytes(c.largestBuffer.bytes)} (${c.largestBuffer.what})`
  );
}

/**
 * Throws RunTooLargeError when the largest buffer exceeds `maxBufferBytes` (the adapter's binding limit) or
 * the total exceeds `budgetBytes`.
 */
export function checkRunCost(c: RunCost, maxBufferBytes: number, budgetBytes = Number.POSITIVE_INFINITY): void {
  const refusal = runCostRefusal(c, maxBufferBytes, budgetBytes);
  if (refusal) throw refusal;
}

/** The error checkRunCost would throw, or undefined when the run fits (for a UI that shows it before running). */
export function runCostRefusal(c: RunCost, maxBufferBytes: number, budgetBytes = Number.POSITIVE_INFINITY): RunTooLargeError | undefined {
  if (c.largestBuffer.bytes > maxBufferBytes)
    return new RunTooLargeError(c, c.largestBuffer.what, c.largestBuffer.bytes, maxBufferBytes, 'per buffer on this GPU');
  if (c.totalBytes > budgetBytes) return new RunTooLargeError(c, 'the whole run', c.totalBytes, budgetBytes, 'in the memory budget');
  return undefined;
}

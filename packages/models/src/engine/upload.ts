import type { GpuContext, GpuTensor } from '@headscope/wgpu-kernels';
import { MissingTensorError } from '../errors.js';
import type { ModelConfig } from '../families/types.js';
import type { CanonicalTensor as LoadedTensor } from '../loading/load-model.js';
import type { EngineConfig, LayerWeights, Linear, ModelWeights, Norm } from './weights.js';

/** A canonical tensor as the loader yields it (orientation: families/types.ts, linear weights [in, out]). */
type CanonicalTensor = Pick<LoadedTensor, 'name' | 'shape' | 'data'>;

/**
 * Streams canonical tensors into GPU buffers, one at a time, so JS memory holds at most one tensor.
 * Returns the weights in the shape the forward pass reads.
 */
export async function uploadWeights(ctx: GpuContext, config: ModelConfig, tensors: AsyncIterable<CanonicalTensor>): Promise<ModelWeights> {
  const gpu = new Map<string, GpuTensor>();
  for await (const t of tensors) {
    const g = await ctx.allocateTensor(t.shape, 'f32', t.name);
    ctx.write(g, t.data);
    gpu.set(t.name, g);
  }
  const need = (name: string): GpuTensor => {
    const t = gpu.get(name);
    if (!t) throw new MissingTensorError(name, 'the loaded weights');
    return t;
  };
  const opt = (name: string): GpuTensor | undefined => gpu.get(name);
  const lin = (w: string, b?: string): Linear => {
    const bias = b ? opt(b) : undefined;
    return { w: need(w), transB: false, ...(bias ? { b: bias } : {}) };
  };
  const norm = (prefix: string): Norm => {
    const w = opt(`${prefix}.w`);
    const b = opt(`${prefix}.b`);
    return { ...(w ? { w } : {}), ...(b ? { b } : {}) };
  };
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    const p = `blocks.${l}`;
    const gate = config.mlp.gated ? lin(`${p}.mlp.W_gate`, `${p}.mlp.b_gate`) : undefined;
    layers.push({
      ln1: norm(`${p}.ln1`),
      q: lin(`${p}.attn.W_Q`, `${p}.attn.b_Q`),
      k: lin(`${p}.attn.W_K`, `${p}.attn.b_K`),
      v: lin(`${p}.attn.W_V`, `${p}.attn.b_V`),
      o: lin(`${p}.attn.W_O`, `${p}.attn.b_O`),
      ln2: norm(`${p}.ln2`),
      mlpIn: lin(`${p}.mlp.W_in`, `${p}.mlp.b_in`),
      ...(gate ? { mlpGate: gate } : {}),
      mlpOut: lin(`${p}.mlp.W_out`, `${p}.mlp.b_out`),
    });
  }
  const pos = opt('pos_embed.W_pos');
  // Tied embeddings: read W_E transposed instead of keeping a second copy as W_U.
  const unembed: Linear = gpu.has('unembed.W_U')
    ? lin('unembed.W_U', 'unembed.b_U')
    : { w: need('embed.W_E'), transB: true, ...(opt('unembed.b_U') ? { b: opt('unembed.b_U')! } : {}) };
  return { embed: need('embed.W_E'), ...(pos ? { pos } : {}), layers, lnFinal: norm('ln_final'), unembed };
}

/** The forward pass's view of a normalised config. */
export function engineConfig(c: ModelConfig, invFreq: Float32Array | undefined): EngineConfig {
  return {
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dModel: c.dModel,
    dHead: c.dHead,
    vocabSize: c.vocabSize,
    nCtx: c.nCtx,
    norm: c.norm,
    normEps: c.normEps,
    positional: c.positional,
    ...(c.rotary && invFreq ? { rotary: { dim: c.rotary.dim, style: c.rotary.style, invFreq } } : {}),
    act: c.mlp.act,
    gatedMlp: c.mlp.gated,
    parallelResidual: c.parallelResidual,
  };
}

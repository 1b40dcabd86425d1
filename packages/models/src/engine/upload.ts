import type { GpuContext, GpuTensor } from '@headscope/wgpu-kernels';
import { ropeInvFreq } from '../families/rope.js';
import type { ModelConfig } from '../families/types.js';
import type { CanonicalTensor as LoadedTensor } from '../loading/load-model.js';
import { storedDtype, type WeightPrecision } from '../loading/weight-storage.js';
import { assembleWeights, type EngineConfig, type ModelWeights } from './weights.js';

/** A canonical tensor as the loader yields it (orientation: families/types.ts, linear weights [in, out]). */
type CanonicalTensor = Pick<LoadedTensor, 'name' | 'shape' | 'data'> & Partial<Pick<LoadedTensor, 'sourceDtype'>>;

/**
 * Streams canonical tensors into GPU buffers, one at a time, so JS memory holds at most one tensor.
 * Returns the weights in the shape the forward pass reads. Matrices from F16/BF16 checkpoint tensors stay
 * 16-bit unless `precision` is 'f32' (loading/weight-storage.ts): the host floats came from those 16-bit
 * values and the family transforms only move them, so packing them again is exact.
 */
export async function uploadWeights(
  ctx: GpuContext,
  config: ModelConfig,
  tensors: AsyncIterable<CanonicalTensor>,
  precision: WeightPrecision = 'checkpoint',
): Promise<ModelWeights> {
  const gpu = new Map<string, GpuTensor>();
  for await (const t of tensors) {
    const dtype = storedDtype(t.name, t.sourceDtype ?? 'F32', precision);
    const g = await ctx.allocateTensor(t.shape, dtype, t.name);
    ctx.write(g, t.data);
    gpu.set(t.name, g);
  }
  return assembleWeights(config, gpu);
}

/** The forward pass's view of a normalised config (`localInvFreq`: the rotary of 'local' layers, when the model has one). */
export function engineConfig(c: ModelConfig, invFreq: Float32Array | undefined, localInvFreq?: Float32Array): EngineConfig {
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
    ...(c.normWeightOffset !== undefined ? { normWeightOffset: c.normWeightOffset } : {}),
    ...(c.embedScale !== undefined ? { embedScale: c.embedScale } : {}),
    ...(c.sublayerNorms !== undefined ? { sublayerNorms: c.sublayerNorms } : {}),
    ...(c.qkNorm !== undefined ? { qkNorm: c.qkNorm } : {}),
    ...(c.attnScale !== undefined ? { attnScale: c.attnScale } : {}),
    ...(c.attnSoftcap !== undefined ? { attnSoftcap: c.attnSoftcap } : {}),
    ...(c.finalSoftcap !== undefined ? { finalSoftcap: c.finalSoftcap } : {}),
    ...(c.layerAttention ? { layers: c.layerAttention } : {}),
    ...(c.localRotary && localInvFreq ? { localRotary: { dim: c.localRotary.dim, style: c.localRotary.style, invFreq: localInvFreq } } : {}),
  };
}

/** engineConfig with the rotary tables computed from the config (global and, for Gemma 3, local). */
export function engineConfigOf(c: ModelConfig): EngineConfig {
  return engineConfig(c, c.rotary ? ropeInvFreq(c.rotary) : undefined, c.localRotary ? ropeInvFreq(c.localRotary) : undefined);
}

import type { GpuContext, GpuTensor } from '@headscope/wgpu-kernels';
import type { ModelConfig } from '../families/types.js';
import type { CanonicalTensor as LoadedTensor } from '../loading/load-model.js';
import { assembleWeights, type EngineConfig, type ModelWeights } from './weights.js';

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
  return assembleWeights(config, gpu);
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

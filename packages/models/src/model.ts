import type { GpuContext } from '@headscope/wgpu-kernels';
import { type GenerateOptions, type GenerateResult, generate } from './engine/decode.js';
import { type ForwardOptions, type ForwardResult, Transformer } from './engine/forward.js';
import { engineConfigOf, uploadWeights } from './engine/upload.js';
import { WeightAccess } from './engine/weight-access.js';
import { releaseWeights, weightMemory } from './engine/weights.js';
import type { FamilySpec, ModelConfig } from './families/types.js';
import { type LoadModelOptions, loadModelFiles } from './loading/load-model.js';
import type { FileSource } from './loading/source.js';
import type { WeightMemory } from './loading/weight-storage.js';
import type { HeadscopeTokenizer } from './tokenizer/tokenizer.js';

export interface LoadedModel {
  readonly name: string;
  readonly config: ModelConfig;
  readonly spec: FamilySpec;
  readonly tokenizer: HeadscopeTokenizer;
  readonly transformer: Transformer;
  /** Weights read back for weight-space analyses (per-head W_Q/W_K/W_V/W_O, W_E, W_U, MLPs, norms). */
  readonly weights: WeightAccess;
  /** GPU memory of the weights as loaded (F16/BF16 matrices kept at 16 bits), and as fp32. */
  readonly weightMemory: WeightMemory;
  /** Token ids for a prompt; `bos` overrides the model's default (a "prepend BOS" switch). */
  encode(text: string, options?: { bos?: boolean }): number[];
  /** A forward pass with logits (see `transformer.forward` with logits: 'none' for logits on demand). */
  run(ids: readonly number[], options?: ForwardOptions & { logits?: 'all' | 'last' }): ForwardResult;
  generate(ids: readonly number[], options: GenerateOptions): Promise<GenerateResult>;
  dispose(): void;
}

/** Loads config, tokenizer and weights from any source and builds the forward pass on `ctx`. */
export async function loadModel(ctx: GpuContext, source: FileSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const maxBufferBytes = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  // Tied embeddings: the unembed reads W_E through a transposed matmul instead of a second copy. The
  // flag is known once the config is parsed, before any tensor streams.
  let tied = false;
  const files = await loadModelFiles(source, { maxBufferBytes, ...options, skip: (n) => (n === 'unembed.W_U' && tied) || (options.skip?.(n) ?? false) });
  tied = files.config.tiedEmbeddings && !files.config.unembedBias;
  const { config, tokenizer, spec } = files;
  const weights = await uploadWeights(ctx, config, files.tensors, options.weightPrecision);
  const transformer = new Transformer(ctx, engineConfigOf(config), weights);
  return {
    name: source.name,
    config,
    spec,
    tokenizer,
    transformer,
    weights: new WeightAccess(ctx, transformer.config, weights),
    weightMemory: weightMemory(weights),
    encode: (text, o) => tokenizer.encode(text, { addBos: o?.bos ?? config.addBos }),
    run: (ids, o) => transformer.forward(ids, o),
    generate: (ids, o) => generate(transformer, ids, o),
    dispose: () => {
      releaseWeights(weights);
      // The pool keeps what the largest run needed; another model's runs need other sizes.
      ctx.pool.trim();
    },
  };
}

import { CPU_MAX_PARAMETERS, CpuModelTooLargeError } from './engine/cpu-errors.js';
import { type CpuForwardOptions, type CpuForwardResult, CpuTransformer } from './engine/cpu-forward.js';
import { hostWeights } from './engine/cpu-weights.js';
import { engineConfigOf } from './engine/upload.js';
import type { FamilySpec, ModelConfig } from './families/types.js';
import { inspectModel } from './loading/inspect.js';
import { type LoadModelOptions, loadModelFiles } from './loading/load-model.js';
import type { FileSource } from './loading/source.js';
import type { HeadscopeTokenizer } from './tokenizer/tokenizer.js';

export interface LoadModelCpuOptions extends LoadModelOptions {
  /** Refuse checkpoints with more parameters than this (default CPU_MAX_PARAMETERS, 30M). */
  maxParameters?: number;
}

/** A model on the CPU reference path: the weights in host memory, no GPU anywhere. */
export interface CpuLoadedModel {
  /** Tells it apart from a WebGPU LoadedModel. */
  readonly backend: 'cpu';
  readonly name: string;
  readonly config: ModelConfig;
  readonly spec: FamilySpec;
  readonly tokenizer: HeadscopeTokenizer;
  readonly transformer: CpuTransformer;
  /** Parameters stored in the checkpoint. */
  readonly parameters: number;
  encode(text: string, options?: { bos?: boolean }): number[];
  run(ids: readonly number[], options?: CpuForwardOptions): CpuForwardResult;
  dispose(): void;
}

/**
 * Loads config, tokenizer and weights into host Float32Arrays for the CPU forward pass. The parameter
 * count is checked from the headers before any weight is read: larger models throw CpuModelTooLargeError.
 */
export async function loadModelCpu(source: FileSource, options: LoadModelCpuOptions = {}): Promise<CpuLoadedModel> {
  const { maxParameters = CPU_MAX_PARAMETERS, ...load } = options;
  const report = await inspectModel(source, load.signal ? { signal: load.signal } : {});
  if (report.parameters > maxParameters) throw new CpuModelTooLargeError(source.name, report.parameters, maxParameters);
  // Tied embeddings: the unembed reads W_E transposed, so the loader need not produce W_U.
  let tied = false;
  const files = await loadModelFiles(source, { ...load, skip: (n) => (n === 'unembed.W_U' && tied) || (load.skip?.(n) ?? false) });
  tied = files.config.tiedEmbeddings && !files.config.unembedBias;
  const { config, tokenizer, spec } = files;
  const transformer = new CpuTransformer(engineConfigOf(config), await hostWeights(config, files.tensors));
  return {
    backend: 'cpu',
    name: source.name,
    config,
    spec,
    tokenizer,
    transformer,
    parameters: report.parameters,
    encode: (text, o) => tokenizer.encode(text, { addBos: o?.bos ?? config.addBos }),
    run: (ids, o) => transformer.forward(ids, o),
    dispose: () => undefined,
  };
}

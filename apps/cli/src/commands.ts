import { existsSync, statSync } from 'node:fs';
import { type AtlasResult, parseHeads } from '@headscope/analysis';
import {
  act,
  describeWeightMemory,
  encodeSafetensors,
  findOnnxGraph,
  type HeadscopeTokenizer,
  type Intervention,
  type LoadedModel,
  loadModel,
  loadOnnxModel,
  type OnnxLoadedModel,
  type TensorToWrite,
  zeroTuning,
} from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { type AnalyzeOptions, analyzeInputs, analyzeModel } from './analyze.js';
import { type CommonArgs, type RunCalibration, UsageError } from './args.js';

export interface RunSummary {
  family: string;
  model_type: string;
  layers: number;
  heads: number;
  kv_heads: number;
  d_model: number;
  vocab: number;
  tokens: number;
  bos: boolean;
  /** What ran the model: Headscope's WebGPU engine, or onnxruntime-web (WASM) for an ONNX export. */
  engine: 'webgpu' | 'onnxruntime-web';
  /** GPU memory of the weights (WebGPU engine): "weights 298 KB as bf16 (556 KB as f32)", and the two byte counts. */
  weights?: string;
  weight_bytes?: number;
  weight_bytes_f32?: number;
  /** GPU memory the WebGPU engine estimated for the pass before running it (maps, activations, logits). */
  estimated_bytes?: number;
  out?: string;
  interventions?: Intervention[];
}

/** The token ids a command runs on: --ids as given (BOS prepended when asked), or the prompt encoded. */
function promptIds(args: Pick<CommonArgs, 'prompt' | 'ids' | 'bos'>, tokenizer: HeadscopeTokenizer, config: { addBos: boolean; bosTokenId: number | null }) {
  const bos = args.bos ?? config.addBos;
  let ids: number[] = [];
  if (args.ids) {
    ids = args.bos && config.bosTokenId !== null && args.ids[0] !== config.bosTokenId ? [config.bosTokenId, ...args.ids] : args.ids;
  } else if (args.prompt !== undefined) {
    ids = tokenizer.encode(args.prompt, { addBos: bos });
    if (ids.length === 0) throw new UsageError('the prompt encodes to zero tokens');
  }
  return { ids, bos };
}

function checkDirectory(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--model ${dir} is not a directory`);
}

/** Whether a command runs the folder's ONNX export (--format onnx, or auto and model.onnx is there). */
async function usesOnnx(args: Pick<CommonArgs, 'model' | 'format'>): Promise<boolean> {
  checkDirectory(args.model);
  if (args.format === 'onnx') return true;
  if (args.format === 'safetensors') return false;
  return (await findOnnxGraph(new NodeDirSource(args.model))) !== undefined;
}

async function withOnnxModel<T>(
  args: Pick<CommonArgs, 'model' | 'prompt' | 'ids' | 'bos'>,
  body: (model: OnnxLoadedModel, ids: number[], bos: boolean) => Promise<T>,
): Promise<T> {
  const model = await loadOnnxModel(new NodeDirSource(args.model));
  try {
    const { ids, bos } = promptIds(args, model.tokenizer, model.config);
    return await body(model, ids, bos);
  } finally {
    await model.dispose();
  }
}

/** `run` on an ONNX export: the same file (input_ids, logits, attn.<layer>), no interventions. */
function runOnnx(args: CommonArgs & { out: string; calibration?: RunCalibration }): Promise<{ summary: RunSummary; file: Uint8Array }> {
  if (args.calibration?.act || args.calibration?.zeroTuning || args.calibration?.pre) {
    throw new UsageError('--act, --zerotuning and --pre need the WebGPU engine (an ONNX graph runs as exported): use --format safetensors with the checkpoint');
  }
  return withOnnxModel(args, async (model, ids, bos) => {
    const c = model.config;
    const { logits, attention } = await model.run(ids);
    const tensors: TensorToWrite[] = [
      { name: 'input_ids', shape: [ids.length], data: Int32Array.from(ids) },
      { name: 'logits', shape: [ids.length, c.vocabSize], data: logits },
    ];
    for (let l = 0; l < c.nLayers; l++) tensors.push({ name: `attn.${l}`, shape: [c.nHeads, ids.length, ids.length], data: await attention.layer(l) });
    attention.release();
    const summary: RunSummary = {
      family: c.family,
      model_type: c.modelType,
      layers: c.nLayers,
      heads: c.nHeads,
      kv_heads: c.nKvHeads,
      d_model: c.dModel,
      vocab: c.vocabSize,
      tokens: ids.length,
      bos,
      engine: 'onnxruntime-web',
      out: args.out,
    };
    return { summary, file: encodeSafetensors(tensors, { producer: 'headscope', model: model.name }) };
  });
}

/** The run's interventions from --act / --zerotuning, with HEADS checked against the model. */
export function runInterventions(c: RunCalibration, nLayers: number, nHeads: number): Intervention[] {
  const out: Intervention[] = [];
  if (c.act) {
    const { heads, ...settings } = c.act;
    out.push(...act(parseHeads(heads, nLayers, nHeads), settings));
  }
  if (c.zeroTuning) out.push(...zeroTuning(parseHeads(c.zeroTuning.heads, nLayers, nHeads), c.zeroTuning.gamma));
  return out;
}

export async function withModel<T>(
  args: Pick<CommonArgs, 'model' | 'prompt' | 'ids' | 'bos'>,
  body: (ctx: GpuContext, model: LoadedModel, ids: number[], bos: boolean) => Promise<T>,
): Promise<T> {
  checkDirectory(args.model);
  const ctx = await createNodeContext();
  try {
    const model = await loadModel(ctx, new NodeDirSource(args.model));
    const { ids, bos } = promptIds(args, model.tokenizer, model.config);
    try {
      return await body(ctx, model, ids, bos);
    } finally {
      model.dispose();
    }
  } finally {
    ctx.destroy();
  }
}

/**
 * One forward pass; returns the safetensors bytes (input_ids, logits, attn.<layer>, with --pre also
 * attn_pre.<layer>: the maps before the ACT rewrite) and a summary. Logits and maps are the calibrated ones.
 */
export async function executeRun(args: CommonArgs & { out: string; calibration?: RunCalibration }): Promise<{ summary: RunSummary; file: Uint8Array }> {
  if (await usesOnnx(args)) return runOnnx(args);
  return withModel(args, async (ctx, model, ids, bos) => {
    const c = model.config;
    const interventions = args.calibration ? runInterventions(args.calibration, c.nLayers, c.nHeads) : [];
    const pre = args.calibration?.pre === true;
    // Estimated before running; a run that cannot fit is refused by the forward pass (RunTooLargeError) with these figures.
    const estimated = model.transformer.estimate(ids.length, { capture: { layers: 'all', pre } });
    const { logits, attention } = model.run(ids, { interventions, capture: { layers: 'all', pre } });
    const tensors: TensorToWrite[] = [
      { name: 'input_ids', shape: [ids.length], data: Int32Array.from(ids) },
      { name: 'logits', shape: [ids.length, c.vocabSize], data: await ctx.readF32(logits) },
    ];
    const shape = [c.nHeads, ids.length, ids.length];
    for (let l = 0; l < c.nLayers; l++) tensors.push({ name: `attn.${l}`, shape, data: await attention.layer(l) });
    if (pre) for (let l = 0; l < c.nLayers; l++) tensors.push({ name: `attn_pre.${l}`, shape, data: await attention.layer(l, { pre: true }) });
    ctx.release(logits);
    attention.release();
    const summary: RunSummary = {
      family: c.family,
      model_type: c.modelType,
      layers: c.nLayers,
      heads: c.nHeads,
      kv_heads: c.nKvHeads,
      d_model: c.dModel,
      vocab: c.vocabSize,
      tokens: ids.length,
      bos,
      engine: 'webgpu',
      weights: describeWeightMemory(model.weightMemory),
      weight_bytes: model.weightMemory.bytes,
      weight_bytes_f32: model.weightMemory.fp32Bytes,
      estimated_bytes: estimated.totalBytes,
      out: args.out,
      ...(interventions.length > 0 ? { interventions } : {}),
    };
    return { summary, file: encodeSafetensors(tensors, { producer: 'headscope', model: model.name }) };
  });
}

export async function executeGenerate(
  args: CommonArgs & { maxNewTokens: number; temperature: number; topK: number; seed: number },
): Promise<{ ids: number[]; text: string }> {
  if (await usesOnnx(args)) {
    if (args.temperature !== 0) throw new UsageError('an ONNX model decodes greedily only: use --temperature 0 (the default)');
    return withOnnxModel(args, async (model, ids) => {
      const room = model.config.nCtx - ids.length;
      const out = await model.generateGreedy(ids, Math.min(args.maxNewTokens, Math.max(1, room)), model.config.eosTokenIds);
      return { ids: out, text: model.tokenizer.decode(out, { skipSpecialTokens: true }) };
    });
  }
  return withModel(args, async (_ctx, model, ids) => {
    const room = model.config.nCtx - ids.length;
    const result = await model.generate(ids, {
      maxNewTokens: Math.min(args.maxNewTokens, Math.max(1, room)),
      temperature: args.temperature,
      topK: args.topK,
      seed: args.seed,
      stopIds: model.config.eosTokenIds,
    });
    result.prefill.release();
    for (const s of result.steps) s.release();
    return { ids: result.ids, text: model.tokenizer.decode(result.ids, { skipSpecialTokens: true }) };
  });
}

export async function executeAnalyze(args: Omit<CommonArgs, 'prompt' | 'ids'> & AnalyzeOptions): Promise<AtlasResult> {
  const inputs = analyzeInputs(args);
  if (await usesOnnx(args)) throw new UsageError('analyze runs on the WebGPU engine and needs the safetensors checkpoint; this folder holds an ONNX export');
  return withModel(args, (_ctx, model) => analyzeModel(model, args, inputs));
}

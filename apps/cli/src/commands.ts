import { existsSync, statSync } from 'node:fs';
import { parseHeads } from '@headscope/analysis';
import { act, encodeSafetensors, type Intervention, type LoadedModel, loadModel, type TensorToWrite, zeroTuning } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { type AnalyzeReport, analyzeModel } from './analyze.js';
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
  out?: string;
  interventions?: Intervention[];
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
  if (!existsSync(args.model) || !statSync(args.model).isDirectory()) throw new UsageError(`--model ${args.model} is not a directory`);
  const ctx = await createNodeContext();
  try {
    const model = await loadModel(ctx, new NodeDirSource(args.model));
    const bos = args.bos ?? model.config.addBos;
    let ids: number[] = [];
    if (args.ids) {
      ids = args.bos && model.config.bosTokenId !== null && args.ids[0] !== model.config.bosTokenId ? [model.config.bosTokenId, ...args.ids] : args.ids;
    } else if (args.prompt !== undefined) {
      ids = model.encode(args.prompt, { bos });
      if (ids.length === 0) throw new UsageError('the prompt encodes to zero tokens');
    }
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
export function executeRun(args: CommonArgs & { out: string; calibration?: RunCalibration }): Promise<{ summary: RunSummary; file: Uint8Array }> {
  return withModel(args, async (ctx, model, ids, bos) => {
    const c = model.config;
    const interventions = args.calibration ? runInterventions(args.calibration, c.nLayers, c.nHeads) : [];
    const pre = args.calibration?.pre === true;
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
      out: args.out,
      ...(interventions.length > 0 ? { interventions } : {}),
    };
    return { summary, file: encodeSafetensors(tensors, { producer: 'headscope', model: model.name }) };
  });
}

export function executeGenerate(
  args: CommonArgs & { maxNewTokens: number; temperature: number; topK: number; seed: number },
): Promise<{ ids: number[]; text: string }> {
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

export function executeAnalyze(
  args: Omit<CommonArgs, 'prompt' | 'ids'> & { promptsFile?: string; maxTokens: number; probeN: number; seed: number },
): Promise<AnalyzeReport> {
  return withModel(args, (_ctx, model) => analyzeModel(model, args));
}

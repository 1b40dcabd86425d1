import { existsSync, statSync } from 'node:fs';
import { encodeSafetensors, type LoadedModel, loadModel, type TensorToWrite } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { type AnalyzeReport, analyzeModel } from './analyze.js';
import { type CommonArgs, UsageError } from './args.js';

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
}

async function withModel<T>(
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

/** One forward pass; returns the safetensors bytes (input_ids, logits, attn.<layer>) and a summary. */
export function executeRun(args: CommonArgs & { out: string }): Promise<{ summary: RunSummary; file: Uint8Array }> {
  return withModel(args, async (ctx, model, ids, bos) => {
    const c = model.config;
    const { logits, attention } = model.run(ids);
    const tensors: TensorToWrite[] = [
      { name: 'input_ids', shape: [ids.length], data: Int32Array.from(ids) },
      { name: 'logits', shape: [ids.length, c.vocabSize], data: await ctx.readF32(logits) },
    ];
    for (let l = 0; l < c.nLayers; l++) tensors.push({ name: `attn.${l}`, shape: [c.nHeads, ids.length, ids.length], data: await attention.layer(l) });
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

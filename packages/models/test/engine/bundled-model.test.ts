/**
 * The bundled default model (public/models/headscope-tiny) against the transformers reference written by
 * tools/train/train.py on the GPU machine (tools/train/reference/: fp16 weights read as fp32, eager
 * attention, no TF32): same token ids, logits within 1e-3, same argmax at every position, and the same
 * 40-token greedy continuations.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GpuContext } from '@headscope/wgpu-kernels';
import { createNodeContext } from '@headscope/wgpu-kernels/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedModel, loadModel } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { maxAbsDiff, readTensors, type TensorMap } from '../helpers/reference.js';

const ROOT = resolve(__dirname, '../../../..');
const MODEL = join(ROOT, 'public/models/headscope-tiny');
const REFERENCE = join(ROOT, 'tools/train/reference');
const TOLERANCE = 1e-3;
const SLOW = 600_000; // a 9M-parameter model on SwiftShader

interface ReferenceJson {
  bos_prepended: boolean;
  prompts: Array<{ text: string; input_ids: number[]; T: number }>;
  greedy: Array<{ prompt: string; input_ids: number[]; greedy_ids: number[] }>;
}

function argmaxRows(data: Float32Array, rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}

describe.runIf(existsSync(join(MODEL, 'model.safetensors')) && existsSync(join(REFERENCE, 'reference.json')))(
  'bundled headscope-tiny matches transformers',
  () => {
    let ctx: GpuContext;
    let model: LoadedModel;
    let ref: ReferenceJson;
    let tensors: TensorMap;

    beforeAll(async () => {
      ctx = await createNodeContext();
      model = await loadModel(ctx, new NodeDirSource(MODEL));
      ref = JSON.parse(readFileSync(join(REFERENCE, 'reference.json'), 'utf8'));
      tensors = await readTensors(REFERENCE);
    }, SLOW);
    afterAll(() => {
      model?.dispose();
      ctx?.destroy();
    });

    it('loads as a tied Llama with the reference BOS policy, vocab 8192', () => {
      expect(model.config.family).toBe('llama');
      expect(model.config.addBos).toBe(ref.bos_prepended);
      expect(model.config.tiedEmbeddings).toBe(true);
      expect(model.config.vocabSize).toBe(8192);
    });

    it('tokenizes the reference prompts to the same ids', () => {
      for (const p of ref.prompts) expect(model.encode(p.text)).toEqual(p.input_ids);
      for (const g of ref.greedy) expect(model.encode(g.prompt)).toEqual(g.input_ids);
    });

    it(
      `logits within ${TOLERANCE} of transformers and the same argmax at every position`,
      async () => {
        const V = model.config.vocabSize;
        for (let p = 0; p < ref.prompts.length; p++) {
          const ids = Array.from(tensors.get(`prompt${p}.input_ids`)!.data);
          const { logits, attention } = model.run(ids);
          const got = await ctx.readF32(logits);
          ctx.release(logits);
          attention.release();
          const T = ids.length;
          const last4 = tensors.get(`prompt${p}.logits_last4`)!;
          const err = maxAbsDiff(got.subarray((T - 4) * V, T * V), last4.data);
          expect(err, `prompt ${p}: last-4 logits max abs error ${err}`).toBeLessThanOrEqual(TOLERANCE);
          const full = tensors.get(`prompt${p}.logits`);
          if (full) {
            const n = full.shape[0]!;
            const errFull = maxAbsDiff(got.subarray(0, n * V), full.data);
            expect(errFull, `prompt ${p}: first ${n} positions max abs error ${errFull}`).toBeLessThanOrEqual(TOLERANCE);
          }
          expect(argmaxRows(got, T, V)).toEqual(Array.from(tensors.get(`prompt${p}.argmax`)!.data));
        }
      },
      SLOW,
    );

    it(
      'the 40-token greedy continuations are identical (KV cache)',
      async () => {
        for (let g = 0; g < ref.greedy.length; g++) {
          const ids = Array.from(tensors.get(`greedy${g}.input_ids`)!.data);
          const want = Array.from(tensors.get(`greedy${g}.ids`)!.data);
          const { ids: got, prefill, steps } = await model.generate(ids, { maxNewTokens: want.length });
          prefill.release();
          for (const s of steps) s.release();
          expect(got).toEqual(want);
        }
      },
      SLOW,
    );
  },
);

/**
 * The ONNX fixtures (tools/reference/make_onnx_fixtures.py: tiny seeded transformers models exported with
 * torch.onnx.export from eager attention) through onnxruntime-web's WASM backend in Node, against the
 * Hugging Face references: logits ≤ 1e-4, every head's attention ≤ 1e-5, greedy decoding through the
 * exported past key/values equal to transformers' generate().
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FusedAttentionError, loadOnnxModel } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { maxAbsDiff, maxAttentionDiff, readFixtureReference } from '../helpers/reference.js';

const FIXTURES = resolve(__dirname, '../../../../test/fixtures/onnx');

const CASES = [
  { name: 'onnx_gpt2', past: false },
  { name: 'onnx_gpt2_past', past: true },
  // Hub layout: onnx/model.onnx + onnx/model.onnx_data (external data) beside config.json.
  { name: 'onnx_llama_gqa_past', past: true },
];

describe('ONNX fixtures against Hugging Face (onnxruntime-web, WASM, Node)', () => {
  for (const { name, past } of CASES) {
    it(`${name}: logits, every head's attention${past ? ', greedy decoding with past key/values' : ''}`, async () => {
      const dir = join(FIXTURES, name);
      const ref = await readFixtureReference(dir);
      const greedy = (JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { greedy_ids: number[] }).greedy_ids;
      const model = await loadOnnxModel(new NodeDirSource(dir));
      try {
        expect(model.executionProvider).toBe('wasm');
        const ids = model.encode(ref.prompt, { bos: ref.bos_prepended });
        expect(ids).toEqual(ref.input_ids);
        const { logits, attention } = await model.run(ids);
        expect(maxAbsDiff(logits, ref.tensors.get('logits')!.data)).toBeLessThanOrEqual(1e-4);
        expect(await maxAttentionDiff(attention, ref, model.config, ids.length)).toBeLessThanOrEqual(1e-5);
        expect(model.capabilities.kvDecode.ok).toBe(past);
        if (past) expect(await model.generateGreedy(ids, greedy.length)).toEqual(greedy);
        else await expect(model.generateGreedy(ids, 1)).rejects.toThrow(/no past-key-values inputs/);
      } finally {
        await model.dispose();
      }
    });
  }

  it('onnx_gpt2_fused: a fused attention op is refused, naming the op and the export that avoids it', async () => {
    const err = await loadOnnxModel(new NodeDirSource(join(FIXTURES, 'onnx_gpt2_fused'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FusedAttentionError);
    expect((err as FusedAttentionError).op).toMatch(/Attention/);
    expect((err as FusedAttentionError).fix).toMatch(/attn_implementation="eager"/);
  });
});

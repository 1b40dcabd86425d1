import { describe, expect, it } from 'vitest';
import { canonicalShape, requiredCanonicalNames } from '../../src/families/canonical.js';
import { parseModelConfig } from '../../src/families/registry.js';
import { applyTransform, transpose2d } from '../../src/families/transform.js';
import { GPT2_SMALL, LLAMA_32_1B, MISTRAL_7B, PYTHIA_70M, QWEN2_05B } from '../helpers/configs.js';

describe('transforms', () => {
  it('transposes [rows, cols] → [cols, rows], also across tile edges', () => {
    const rows = 37;
    const cols = 70;
    const src = Float32Array.from({ length: rows * cols }, (_, i) => i);
    const t = transpose2d(src, rows, cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(t[c * rows + r]).toBe(r * cols + c);
  });

  it('splits a blocked fused [in, q|k|v] matrix by columns (GPT-2 c_attn)', () => {
    // value = row * 100 + col, so each output element names where it came from.
    const d = 2;
    const src = Float32Array.from({ length: d * 3 * d }, (_, i) => Math.floor(i / (3 * d)) * 100 + (i % (3 * d)));
    const k = applyTransform(src, [d, 3 * d], { kind: 'split', axis: 1, layout: 'blocked', sizes: [d, d, d], index: 1, transpose: false });
    expect(k.shape).toEqual([2, 2]);
    expect([...k.data]).toEqual([2, 3, 102, 103]);
  });

  it('splits per-head interleaved rows and transposes (GPT-NeoX query_key_value)', () => {
    // 2 heads × d_head 2: rows are [q0 q0 k0 k0 v0 v0 q1 q1 k1 k1 v1 v1], 3 input columns.
    const nHeads = 2;
    const dh = 2;
    const inDim = 3;
    const src = Float32Array.from({ length: 3 * nHeads * dh * inDim }, (_, i) => Math.floor(i / inDim) * 10 + (i % inDim));
    const v = applyTransform(src, [3 * nHeads * dh, inDim], {
      kind: 'split',
      axis: 0,
      layout: 'per-head',
      nHeads,
      headDim: dh,
      parts: 3,
      index: 2,
      transpose: true,
    });
    expect(v.shape).toEqual([inDim, nHeads * dh]);
    // Column h·d_head + i of W_V = fused row h·3·d_head + 2·d_head + i.
    const rowsUsed = [4, 5, 10, 11];
    for (let c = 0; c < 4; c++) for (let r = 0; r < inDim; r++) expect(v.data[r * 4 + c]).toBe(rowsUsed[c]! * 10 + r);
    const bias = Float32Array.from({ length: 12 }, (_, i) => i);
    const bk = applyTransform(bias, [12], { kind: 'split', axis: 0, layout: 'per-head', nHeads, headDim: dh, parts: 3, index: 1, transpose: false });
    expect([...bk.data]).toEqual([2, 3, 8, 9]);
  });
});

describe('family specs are consistent', () => {
  for (const [label, text] of [
    ['gpt2', GPT2_SMALL],
    ['gpt_neox', PYTHIA_70M],
    ['llama', LLAMA_32_1B],
    ['qwen2', QWEN2_05B],
    ['mistral', MISTRAL_7B],
  ] as const) {
    it(`${label}: maps exactly the canonical tensors its config implies, each to its canonical shape`, () => {
      const { spec, config } = parseModelConfig(text);
      const mappings = spec.tensors(config);
      expect(mappings.map((m) => m.canonical).sort()).toEqual(requiredCanonicalNames(config).sort());
      for (const m of mappings) expect(m.shape, m.canonical).toEqual(canonicalShape(m.canonical, config));
    });
  }

  it('untied variants read lm_head / embed_out', () => {
    const { spec, config } = parseModelConfig({ ...JSON.parse(LLAMA_32_1B), tie_word_embeddings: false });
    expect(spec.tensors(config).find((m) => m.canonical === 'unembed.W_U')!.source).toEqual(['lm_head.weight']);
    const tied = parseModelConfig(LLAMA_32_1B);
    expect(tied.spec.tensors(tied.config).find((m) => m.canonical === 'unembed.W_U')!.source).toEqual(['model.embed_tokens.weight']);
  });
});

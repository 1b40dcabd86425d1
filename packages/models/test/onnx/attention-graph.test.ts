/**
 * The ONNX graph rewrite on graphs built here (helpers/onnx-graphs.ts): attention Softmax nodes found in
 * graph order and exposed as outputs, run through onnxruntime-web (WASM) and compared with a plain
 * TypeScript forward pass of the same weights; non-attention Softmax nodes left alone; external data read;
 * each bad input a typed error.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  analyseGraph,
  ExternalDataTruncatedError,
  FusedAttentionError,
  loadOnnxModel,
  MissingFileError,
  NoAttentionSoftmaxError,
  OnnxConfigMismatchError,
  OnnxFormatError,
  parseOnnx,
} from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { buildTinyModel, type TinyModel, type TinySpec, tinyReference } from '../helpers/onnx-graphs.js';
import { maxAbsDiff } from '../helpers/reference.js';

const TOKENIZER_DIR = resolve(__dirname, '../../../../test/fixtures/models/gpt2');
const BASE: TinySpec = { layers: 2, heads: 2, dHead: 4, vocab: 480, T: 6 };
const IDS = [281, 336, 308, 458, 68, 259];
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A model folder: model.onnx (+ external data), config.json (overridable), the gpt2 fixture's tokenizer. */
function folder(m: TinyModel, config: Record<string, unknown> = {}, external?: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'headscope-onnx-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'model.onnx'), m.onnx);
  if (m.spec.externalFile && (external ?? m.external)) writeFileSync(join(dir, m.spec.externalFile), external ?? m.external!);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...m.config, ...config }));
  copyFileSync(join(TOKENIZER_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  return dir;
}

async function expectMatchesReference(m: TinyModel, dir: string): Promise<void> {
  const model = await loadOnnxModel(new NodeDirSource(dir));
  try {
    const ref = tinyReference(m, IDS);
    const { logits, attention } = await model.run(IDS);
    expect(maxAbsDiff(logits, ref.logits)).toBeLessThan(1e-4);
    for (let l = 0; l < m.spec.layers; l++) expect(maxAbsDiff(await attention.layer(l), ref.attention[l]!)).toBeLessThan(1e-6);
    // The maps are real attention: causal rows that sum to one, and not uniform.
    const l0 = await attention.head(0, 1);
    expect(l0[1]).toBe(0);
    expect(l0.slice(6, 12).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Math.abs(l0[6]! - 0.5)).toBeGreaterThan(0.01);
    expect(model.capabilities.hooks.ok).toBe(false);
    expect(model.capabilities.kvDecode.ok).toBe(false);
  } finally {
    await model.dispose();
  }
}

describe('ONNX attention rewrite', () => {
  it('finds one attention Softmax per layer, in graph order, and reads each through onnxruntime-web', async () => {
    const m = buildTinyModel(BASE);
    const report = analyseGraph(parseOnnx(m.onnx), { nLayers: 2, nHeads: 2 });
    expect(report.softmax.map((s) => [s.layer, s.output])).toEqual([
      [0, 'l0_probs'],
      [1, 'l1_probs'],
    ]);
    expect(report.otherSoftmax).toBe(0);
    await expectMatchesReference(m, folder(m));
  });

  it('leaves a second, non-attention Softmax per layer alone', async () => {
    const m = buildTinyModel({ ...BASE, router: true, seed: 11 });
    const report = analyseGraph(parseOnnx(m.onnx), { nLayers: 2, nHeads: 2 });
    expect(report.softmax.map((s) => s.output)).toEqual(['l0_probs', 'l1_probs']);
    expect(report.otherSoftmax).toBe(2);
    await expectMatchesReference(m, folder(m));
  });

  it('reads weights from an external-data file, and refuses a truncated or missing one', async () => {
    const m = buildTinyModel({ ...BASE, externalFile: 'model.onnx_data', seed: 5 });
    const report = analyseGraph(parseOnnx(m.onnx), { nLayers: 2, nHeads: 2 });
    expect(report.external.length).toBeGreaterThan(5);
    expect(m.onnx.length).toBeLessThan(m.external!.length / 4);
    await expectMatchesReference(m, folder(m));
    const cut = folder(m, {}, m.external!.subarray(0, m.external!.length - 100));
    const err = await loadOnnxModel(new NodeDirSource(cut)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalDataTruncatedError);
    expect((err as ExternalDataTruncatedError).neededBytes).toBe(m.external!.length);
    const missing = folder(m);
    rmSync(join(missing, 'model.onnx_data'));
    await expect(loadOnnxModel(new NodeDirSource(missing))).rejects.toBeInstanceOf(MissingFileError);
  });

  it('refuses bad input with typed errors that carry the fix', async () => {
    const decomposed = buildTinyModel({ ...BASE, decomposed: true, router: true });
    const e1 = await loadOnnxModel(new NodeDirSource(folder(decomposed))).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(NoAttentionSoftmaxError);
    expect((e1 as NoAttentionSoftmaxError).softmaxNodes).toBe(2);
    expect((e1 as NoAttentionSoftmaxError).fix).toMatch(/attn_implementation="eager"/);

    const fused = buildTinyModel({ ...BASE, fused: true });
    const e2 = await loadOnnxModel(new NodeDirSource(folder(fused))).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(FusedAttentionError);
    expect((e2 as FusedAttentionError).op).toBe('com.microsoft.Attention');
    expect((e2 as Error).message).toMatch(/optimizer/);

    const plain = buildTinyModel(BASE);
    const e3 = await loadOnnxModel(new NodeDirSource(folder(plain, { num_hidden_layers: 3 }))).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(OnnxConfigMismatchError);
    expect((e3 as Error).message).toMatch(/2 attention Softmax nodes .* 3 layers/);

    // Heads are only known once the graph runs: the first run says what disagrees.
    const wrongHeads = await loadOnnxModel(new NodeDirSource(folder(plain, { num_attention_heads: 4 })));
    await expect(wrongHeads.run(IDS)).rejects.toThrow(/\[1, 2, 6, 6\] but config.json implies \[1, 4, 6, 6\]/);
    await wrongHeads.dispose();

    const notOnnx = folder(plain);
    copyFileSync(join(TOKENIZER_DIR, 'model.safetensors'), join(notOnnx, 'model.onnx'));
    const e4 = await loadOnnxModel(new NodeDirSource(notOnnx)).catch((e: unknown) => e);
    expect(e4).toBeInstanceOf(OnnxFormatError);
    expect((e4 as OnnxFormatError).fix).toMatch(/model.onnx/);
  });
});

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadOnnxModel, type OnnxLoadedModel } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AtlasResult, atlasModelOf, runAtlas, SCORES } from '../src/index.js';

// The head atlas on an ONNX export (onnxruntime-web, WASM): its maps arrive as host arrays, reduced by the
// CPU store's summaries; those must equal the plain reference definitions on the same maps.
const DIR = resolve(__dirname, '../../../test/fixtures/onnx/onnx_gpt2');

describe('head atlas on an ONNX export', () => {
  let model: OnnxLoadedModel;
  let fast: AtlasResult;
  let reference: AtlasResult;
  const prompt = (JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as { prompt: string }).prompt;

  beforeAll(async () => {
    model = await loadOnnxModel(new NodeDirSource(DIR));
    const m = atlasModelOf(model);
    const settings = { probe_n: 10 };
    fast = await runAtlas(m, [prompt, 'The dog sat on the mat. The dog sat on the'], settings);
    reference = await runAtlas(m, [prompt, 'The dog sat on the mat. The dog sat on the'], settings, { path: 'reference' });
  });
  afterAll(() => model?.dispose());

  it('scores every head of both prompts and the probe; the summaries equal the reference within 1e-5', () => {
    expect(fast.table).toHaveLength(model.config.nLayers * model.config.nHeads);
    expect(fast.bytes.sequences).toBe(3);
    expect(fast.successor).toBeUndefined(); // no weights on a GPU: no successor score
    for (const spec of SCORES.filter((x) => x.source !== 'decode' && x.source !== 'weights')) {
      const tol = spec.key === 'attention_distance' ? 1e-4 : 1e-5;
      for (let i = 0; i < fast.table.length; i++) {
        const v = fast.table[i]!.scores[spec.key]!;
        expect(Number.isFinite(v), spec.key).toBe(true);
        expect(Math.abs(v - reference.table[i]!.scores[spec.key]!), spec.key).toBeLessThanOrEqual(tol);
      }
    }
    expect(fast.sinkRate).toEqual(reference.sinkRate);
    // Random weights still make some head attend to the first token more than to others.
    expect(Math.max(...fast.table.map((r) => r.scores['first_token_sink']!))).toBeGreaterThan(0);
  });
});

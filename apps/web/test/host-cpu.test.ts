/**
 * The worker's engine host where WebGPU is unavailable (Node has no navigator.gpu): it reports the CPU
 * backend and why, loads a small model on the CPU reference path, and every view's request works.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { streamTensors } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import { describe, expect, it } from 'vitest';
import { maskedCell, maskedPair } from '../src/components/heatmap-draw.js';
import { EngineHost } from '../src/engine/host.js';
import { topKFromLogits } from '../src/engine/matrix.js';

const FIXTURE = resolve(__dirname, '../../../test/fixtures/models/gpt2');
const FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

describe('EngineHost without WebGPU', () => {
  it('runs a small model on the CPU path and answers every view', async () => {
    const host = new EngineHost('http://localhost');
    const probe = await host.probe();
    expect(probe).toMatchObject({ ok: true, backend: 'cpu', maxParameters: 30_000_000 });
    if (!probe.ok || probe.backend !== 'cpu') throw new Error('expected the CPU backend');
    expect(probe.reason).toMatch(/navigator\.gpu|adapter/);
    expect(probe.fix).toMatch(/browser with WebGPU/);

    const ref = { kind: 'local' as const, name: 'gpt2 fixture', files: FILES.map((f) => new File([readFileSync(join(FIXTURE, f))], f)) };
    const signal = new AbortController().signal;
    expect((await host.inspect(ref, signal)).fits).toEqual({ ok: true });
    const loaded = await host.load(ref, signal, () => undefined);
    expect(loaded.nLayers).toBe(2);

    const want = new Map<string, Float32Array | Int32Array>();
    for await (const t of streamTensors(new NodeDirSource(FIXTURE), ['reference.safetensors'])) want.set(t.name, t.data);
    const ids = Array.from(want.get('input_ids')!);
    const T = ids.length;
    const run = await host.runIds(ids);
    expect(run).toMatchObject({ tokens: T, nLayers: 2, nHeads: 4 });
    expect(run.metrics.entropy.every((v) => v > 0)).toBe(true);

    // A row of L1H2 as transformers computes it.
    const row = await host.row(run.runId, 1, 2, T - 1);
    const attn = want.get('attn.1')!;
    for (let j = 0; j < T; j++) expect(Math.abs(row[j]! - attn[(2 * T + T - 1) * T + j]!)).toBeLessThanOrEqual(1e-5);
    expect(await host.value(run.runId, 1, 2, T - 1, 0)).toBe(row[0]);
    const w = await host.window(run.runId, 1, 2, { q0: 0, q1: T, k0: 0, k1: T, stride: 1 });
    expect(w.values.length).toBe(T * T);

    // Predictions from the host logits: the same top tokens as the reference logits.
    const V = loaded.vocabSize;
    const top = await host.topk(run.runId, T - 1, 5);
    const logits = want.get('logits')! as Float32Array;
    const expected = topKFromLogits(logits.slice((T - 1) * V, T * V), 5);
    expect(top.map((p) => p.id)).toEqual(expected.map((p) => p.id));
    for (let i = 0; i < 5; i++) expect(Math.abs(top[i]!.prob - expected[i]!.prob)).toBeLessThanOrEqual(1e-5);

    expect((await host.captures(run.runId)).byteLength).toBeGreaterThan(4 * (T * V + 2 * 4 * T * T));
    const next = await host.runIds(ids.slice(0, 3));
    await expect(host.row(run.runId, 0, 0, 0)).rejects.toThrow(/replaced/);
    expect((await host.row(next.runId, 0, 0, 2)).length).toBe(3);
  });

  it('reports sliding windows per layer; the heatmap masks exactly the keys the window leaves out (gemma3_text)', async () => {
    const dir = resolve(__dirname, '../../../test/fixtures/models/gemma3_text');
    const host = new EngineHost('http://localhost');
    await host.probe();
    const ref = { kind: 'local' as const, name: 'gemma3 fixture', files: FILES.map((f) => new File([readFileSync(join(dir, f))], f)) };
    const signal = new AbortController().signal;
    await host.load(ref, signal, () => undefined);
    const ids = [2, 10, 20, 30, 40, 50, 60, 70, 80, 90];
    const T = ids.length;
    const run = await host.runIds(ids);
    expect(run.windows).toEqual([4, 4, null]);
    for (const [layer, window] of [
      [0, 4],
      [2, null],
    ] as const) {
      const w = await host.window(run.runId, layer, 1, { q0: 0, q1: T, k0: 0, k1: T, stride: 1 });
      for (let q = 0; q < T; q++) {
        for (let k = 0; k < T; k++) {
          const masked = maskedPair(q, k, window);
          expect(maskedCell(w, q, k, window)).toBe(masked);
          // Masked keys get exactly zero attention; every visible key gets some.
          if (masked) expect(w.values[q * T + k]).toBe(0);
          else expect(w.values[q * T + k]).toBeGreaterThan(0);
        }
      }
      if (window !== null) expect(maskedPair(T - 1, T - 1 - window, window)).toBe(true);
    }
    // A pooled 2×2 cell is masked only when every pair in it is: rows 6–7 × keys 2–3 (7 − 2 ≥ 4 but 6 − 3 < 4).
    const pooled = { q0: 0, k0: 0, rows: 5, cols: 5, stride: 2, values: new Float32Array(25) };
    expect(maskedCell(pooled, 3, 1, 4)).toBe(false);
    expect(maskedCell(pooled, 4, 0, 4)).toBe(true);
    expect(maskedCell(pooled, 0, 1, null)).toBe(true);
  });
});

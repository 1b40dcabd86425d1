/**
 * ONNX models in the workbench (Chromium): an export opened from disk and from the hub's `onnx/` layout,
 * run through onnxruntime-web in the engine worker (the WebGPU execution provider where it works, WASM
 * otherwise — the test logs which ran), its exported maps equal to the Hugging Face reference; grid and
 * heatmap; a shared session reopened (the recipient is asked for the files); bad exports refused with
 * typed errors that say what to do. Screenshots: test-results/e2e/onnx-*.png.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyModel } from '../../packages/models/test/helpers/onnx-graphs.js';
import { REPO_ROOT } from '../support/e2e-app.js';
import { type E2eHarness, shot, startHarness } from '../support/e2e-harness.js';
import { downloadOf, hoverCell, readoutValue, readSafetensorsBytes, waitReady, waitRun } from '../support/e2e-page.js';

const ONNX = join(REPO_ROOT, 'test', 'fixtures', 'onnx');
const GPT2 = join(ONNX, 'onnx_gpt2');
const LLAMA_HUB = join(ONNX, 'onnx_llama_gqa_past');
const HUB = '/hub';
const FILES = ['config.json', 'model.onnx', 'tokenizer.json', 'tokenizer_config.json'];

interface Reference {
  prompt: string;
  input_ids: number[];
  tensors: Map<string, { dtype: string; shape: number[]; data: Buffer }>;
}

function reference(dir: string): Reference {
  const meta = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { prompt: string; input_ids: number[] };
  return { ...meta, tensors: readSafetensorsBytes(readFileSync(join(dir, 'reference.safetensors'))) };
}

const f32 = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
function maxDiff(a: Buffer, b: Buffer): number {
  const x = f32(a);
  const y = f32(b);
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

describe('ONNX models in Chromium', { timeout: 400_000 }, () => {
  let harness: E2eHarness;
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness({ serve: { mounts: { [`${HUB}/test/onnx/resolve/main/`]: { dir: LLAMA_HUB } } } });
  });

  /** A page with long action timeouts: SwiftShader frames come slowly on a loaded machine. */
  async function newPage(): ReturnType<E2eHarness['newPage']> {
    const p = await harness.newPage(problems);
    p.page.setDefaultTimeout(120_000);
    return p;
  }
  afterAll(() => harness?.close());

  /** Runs the fixture's prompt, checks the exported maps against the reference; returns the runtime line. */
  async function runAndCompare(page: import('playwright-core').Page, ref: Reference, label: string): Promise<string> {
    const runtime = (await page.getByTestId('model-runtime').first().textContent()) ?? '';
    await page.getByRole('textbox', { name: 'Prompt' }).fill(ref.prompt);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitRun(page, ref.input_ids.length);
    const st = readSafetensorsBytes((await downloadOf(page, page.getByRole('button', { name: 'All maps (safetensors)' }))).bytes);
    expect(Array.from(new Int32Array(f32(st.get('input_ids')!.data).buffer))).toEqual(ref.input_ids);
    const logits = maxDiff(st.get('logits')!.data, ref.tensors.get('logits')!.data);
    let attention = 0;
    for (const [name, t] of ref.tensors) if (name.startsWith('attn.')) attention = Math.max(attention, maxDiff(st.get(name)!.data, t.data));
    console.log(`${label}: ${runtime}; logits max |Δ| ${logits.toExponential(2)}, attention max |Δ| ${attention.toExponential(2)}`);
    expect(logits).toBeLessThanOrEqual(1e-4);
    expect(attention).toBeLessThanOrEqual(1e-5);
    return runtime;
  }

  it('opens an ONNX export from disk: facts, run, grid and heatmap, maps equal to the reference, the atlas; shares the session', async () => {
    const { context, page } = await newPage();
    await page.goto(`${harness.server.url}/${harness.app.fixtureQuery}`);
    await waitReady(page, 'dev-fixture');
    await page.getByRole('radio', { name: 'Files on this computer' }).check();
    await page.getByLabel('Choose model files').setInputFiles(FILES.map((f) => join(GPT2, f)));
    const facts = page.locator('.local dl.facts');
    await facts.filter({ hasText: 'ONNX export' }).waitFor();
    expect(await facts.textContent()).toMatch(/Not available.*Interventions.*cannot add logit biases.*Token-by-token decoding.*no past-key-values/s);
    await page.getByRole('button', { name: 'Load these files' }).click();
    await waitReady(page, 'the selected files');
    const ref = reference(GPT2);
    const runtime = await runAndCompare(page, ref, 'onnx_gpt2 from disk');
    // SwiftShader here: a software adapter, where the WebGPU provider is skipped for WASM (and the line says so).
    expect(runtime).toBe('onnxruntime-web (WASM execution provider; WebGPU skipped on a software adapter)');
    await page.getByRole('gridcell', { name: 'L1H2' }).click();
    await page.getByRole('img', { name: 'Attention heatmap L1H2' }).and(page.locator('[data-view]')).waitFor();
    await hoverCell(page, 5, 2);
    const cell = await readoutValue(page);
    const T = ref.input_ids.length;
    const want = f32(ref.tensors.get('attn.1')!.data)[(2 * T + 5) * T + 2]!;
    expect(Math.abs(Number(cell.value) - want)).toBeLessThan(1e-3);
    // The head atlas runs on the export's maps (reduced in the worker) over the prompt in the editor and the probe.
    const atlas = page.getByRole('region', { name: 'Head atlas' });
    await atlas.getByRole('combobox', { name: 'Prompts' }).selectOption({ label: 'the prompt in the editor (1)' });
    await atlas.getByRole('button', { name: 'Run atlas' }).click();
    await atlas
      .getByRole('status', { name: 'Atlas status' })
      .filter({ hasText: /^Done: 1 prompt/ })
      .waitFor({ timeout: 240_000 });
    const cells = atlas.getByRole('grid', { name: 'Head atlas map' }).getByRole('gridcell');
    await expect(cells.count()).resolves.toBe(8);
    await page.screenshot({ path: shot('onnx-workbench.png'), fullPage: true });

    // Share: the recipient is asked for the model's files, checks them, and sees the same head.
    await page.getByRole('button', { name: 'Share' }).click();
    const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
    await page.keyboard.press('Escape');
    const other = await newPage();
    await other.page.goto(link);
    const panel = other.page.getByRole('region', { name: 'Session model files' });
    await panel.getByText('the selected files').waitFor();
    await panel.getByLabel("Choose the model's files").setInputFiles(FILES.map((f) => join(GPT2, f)));
    await waitReady(other.page, 'the selected files');
    await waitRun(other.page, T);
    await other.page.getByRole('img', { name: 'Attention heatmap L1H2' }).and(other.page.locator('[data-view]')).waitFor();
    await other.page.screenshot({ path: shot('onnx-shared-session.png'), fullPage: true });
    await other.context.close();
    await context.close();
  });

  it('loads the hub layout (onnx/model.onnx + external data) with progress, maps equal to the reference', async () => {
    const { context, page } = await newPage();
    await page.goto(`${harness.server.url}/${harness.app.fixtureQuery}&hubEndpoint=${HUB}`);
    await waitReady(page, 'dev-fixture');
    await page.getByRole('radio', { name: 'Hugging Face hub' }).check();
    await page.getByLabel('Hub repository id').fill('test/onnx@main');
    await page.getByRole('button', { name: 'Check model' }).click();
    await page.getByRole('region', { name: 'Model' }).locator('dl.facts').filter({ hasText: 'ONNX export' }).first().waitFor();
    await page.getByRole('button', { name: 'Download and load' }).click();
    await waitReady(page, 'test/onnx@main');
    await runAndCompare(page, reference(LLAMA_HUB), 'onnx_llama_gqa_past from the hub layout');
    await page.getByRole('region', { name: 'Model' }).screenshot({ path: shot('onnx-hub-model.png') });
    await context.close();
  });

  it('refuses bad exports with typed errors that say what to do, and keeps the loaded model', async () => {
    const { context, page } = await newPage();
    await page.goto(`${harness.server.url}/${harness.app.fixtureQuery}`);
    await waitReady(page, 'dev-fixture');
    await page.getByRole('radio', { name: 'Files on this computer' }).check();
    const file = (name: string, buffer: Buffer | Uint8Array) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(buffer) });
    const gpt2 = (name: string) => file(name, readFileSync(join(GPT2, name)));
    const tokenizer = [gpt2('tokenizer.json'), gpt2('tokenizer_config.json')];
    const refusal = async (files: ReturnType<typeof file>[], pattern: RegExp, png?: string) => {
      await page.getByLabel('Choose model files').setInputFiles(files);
      const alert = page.locator('.local').getByRole('alert');
      await alert.filter({ hasText: pattern }).waitFor();
      if (png) await page.getByRole('region', { name: 'Model' }).screenshot({ path: shot(png) });
      await expect(page.getByRole('button', { name: 'Load these files' }).count()).resolves.toBe(0);
    };
    // Not an ONNX file (a safetensors checkpoint under the name model.onnx).
    await refusal(
      [gpt2('config.json'), ...tokenizer, file('model.onnx', readFileSync(join(REPO_ROOT, 'test/fixtures/models/gpt2/model.safetensors')))],
      /is not an ONNX model.*Pick the model\.onnx/,
    );
    // A fused attention op (the exporter's ONNX Attention for sdpa attention).
    const fused = join(ONNX, 'onnx_gpt2_fused');
    await refusal(
      [file('config.json', readFileSync(join(fused, 'config.json'))), ...tokenizer, file('model.onnx', readFileSync(join(fused, 'model.onnx')))],
      /fused op .*Attention.*attn_implementation="eager"/,
      'onnx-fused-refused.png',
    );
    // No attention Softmax (probabilities computed as Exp / ReduceSum / Div).
    const decomposed = buildTinyModel({ layers: 2, heads: 2, dHead: 4, vocab: 480, T: 6, decomposed: true });
    await refusal(
      [file('config.json', Buffer.from(JSON.stringify(decomposed.config))), ...tokenizer, file('model.onnx', decomposed.onnx)],
      /no attention Softmax.*attn_implementation="eager"/,
    );
    // config.json from another model.
    const config = JSON.parse(readFileSync(join(GPT2, 'config.json'), 'utf8')) as Record<string, unknown>;
    await refusal(
      [file('config.json', Buffer.from(JSON.stringify({ ...config, n_layer: 3 }))), ...tokenizer, gpt2('model.onnx')],
      /does not match the ONNX graph.*2 attention Softmax nodes.*3 layers.*same export/,
    );
    // External data cut short.
    const data = readFileSync(join(LLAMA_HUB, 'onnx', 'model.onnx_data'));
    const llama = (name: string) => file(name, readFileSync(join(LLAMA_HUB, name)));
    await refusal(
      [
        llama('config.json'),
        llama('tokenizer.json'),
        llama('tokenizer_config.json'),
        file('model.onnx', readFileSync(join(LLAMA_HUB, 'onnx', 'model.onnx'))),
        file('model.onnx_data', data.subarray(0, data.length - 4096)),
      ],
      /model\.onnx_data" is truncated.*download it again|model\.onnx_data" is truncated.*Copy or download/,
    );
    // The model loaded before is still the active one.
    await waitReady(page, 'dev-fixture');
    await context.close();
  });

  it('logged no console errors', () => {
    expect(problems).toEqual([]);
  });
});

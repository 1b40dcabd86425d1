import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTokenizer, streamTensors } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/models');
const MAIN = join(ROOT, 'apps/cli/src/main.ts');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function cli(...args: string[]) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function readAll(dir: string, file: string) {
  const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  for await (const t of streamTensors(new NodeDirSource(dir), [file])) out.set(t.name, { shape: t.shape, data: t.data });
  return out;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('headscope CLI', () => {
  it('run writes input_ids, logits and every attn.<layer>, equal to the transformers reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cli-'));
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'llama_gqa/reference.json'), 'utf8'));
    const r = cli('run', '--model', join(FIXTURES, 'llama_gqa'), '--prompt', ref.prompt, '--out', join(dir, 'out.safetensors'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ family: 'llama', layers: 3, heads: 4, kv_heads: 2, tokens: ref.input_ids.length, bos: true });
    // The estimate made before running covers at least the 3 layers × 4 heads × T² maps written.
    expect(summary.estimated_bytes).toBeGreaterThanOrEqual(3 * 4 * ref.input_ids.length ** 2 * 4);
    const got = await readAll(dir, 'out.safetensors');
    const want = await readAll(join(FIXTURES, 'llama_gqa'), 'reference.safetensors');
    expect(Array.from(got.get('input_ids')!.data)).toEqual(ref.input_ids);
    expect(got.get('logits')!.shape).toEqual(want.get('logits')!.shape);
    expect(maxAbs(got.get('logits')!.data, want.get('logits')!.data)).toBeLessThanOrEqual(1e-4);
    for (let l = 0; l < 3; l++) {
      expect(got.get(`attn.${l}`)!.shape).toEqual([4, ref.input_ids.length, ref.input_ids.length]);
      expect(maxAbs(got.get(`attn.${l}`)!.data, want.get(`attn.${l}`)!.data)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('run --ids --no-bos uses the ids as given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cli-'));
    const r = cli('run', '--model', join(FIXTURES, 'gpt2'), '--ids', '5,6,7', '--no-bos', '--out', join(dir, 'o.safetensors'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ family: 'gpt2', tokens: 3, bos: false, weights: expect.stringMatching(/^weights [\d.]+ KB as f32$/) });
  });

  it('run on a BF16 checkpoint prints its weights kept at 16 bits beside their fp32 size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cli-'));
    const r = cli('run', '--model', join(FIXTURES, 'qwen2'), '--ids', '5,6,7', '--out', join(dir, 'o.safetensors'));
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.weights).toMatch(/^weights [\d.]+ KB as bf16 \([\d.]+ KB as f32\)$/);
    expect(s.weight_bytes / s.weight_bytes_f32).toBeGreaterThan(0.5);
    expect(s.weight_bytes / s.weight_bytes_f32).toBeLessThan(0.6);
  });

  it('generate prints the greedy continuation transformers gives', () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'gpt2/reference.json'), 'utf8'));
    const r = cli('generate', '--model', join(FIXTURES, 'gpt2'), '--ids', ref.input_ids.join(','), '--max-new-tokens', '20');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${ref.greedy_text}\n`);
  });

  it('seeded sampling repeats exactly and differs across seeds', () => {
    const args = [
      'generate',
      '--model',
      join(FIXTURES, 'gpt2'),
      '--prompt',
      'The old keeper',
      '--max-new-tokens',
      '8',
      '--temperature',
      '1.5',
      '--top-k',
      '40',
    ];
    const a = cli(...args, '--seed', '1');
    const b = cli(...args, '--seed', '1');
    const c = cli(...args, '--seed', '2');
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('run on an ONNX export (model.onnx found in DIR/onnx) writes the same file, equal to the reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cli-'));
    const model = join(ROOT, 'test/fixtures/onnx/onnx_llama_gqa_past');
    const ref = JSON.parse(readFileSync(join(model, 'reference.json'), 'utf8'));
    const r = cli('run', '--model', model, '--prompt', ref.prompt, '--out', join(dir, 'out.safetensors'));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      family: 'llama',
      layers: 2,
      heads: 4,
      kv_heads: 2,
      tokens: ref.input_ids.length,
      bos: true,
      engine: 'onnxruntime-web',
    });
    const got = await readAll(dir, 'out.safetensors');
    const want = await readAll(model, 'reference.safetensors');
    expect([...got.keys()].sort()).toEqual(['attn.0', 'attn.1', 'input_ids', 'logits']);
    expect(maxAbs(got.get('logits')!.data, want.get('logits')!.data)).toBeLessThanOrEqual(1e-4);
    for (const l of [0, 1]) expect(maxAbs(got.get(`attn.${l}`)!.data, want.get(`attn.${l}`)!.data)).toBeLessThanOrEqual(1e-5);
    const g = cli('generate', '--model', model, '--ids', ref.input_ids.join(','), '--max-new-tokens', '20');
    expect(g.code).toBe(0);
    const tokenizer = await loadTokenizer(new NodeDirSource(model));
    expect(g.stdout).toBe(`${tokenizer.decode(ref.greedy_ids, { skipSpecialTokens: true })}\n`);
  });

  const oneLineFailure = (r: ReturnType<typeof cli>, pattern: RegExp) => {
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };

  it('fails with one line: missing model directory, bad arguments', () => {
    oneLineFailure(cli('run', '--model', '/nonexistent', '--prompt', 'x', '--out', '/tmp/x.safetensors'), /not a directory/);
    oneLineFailure(cli('generate', '--model', FIXTURES, '--prompt', 'x'), /--max-new-tokens/);
    oneLineFailure(cli('frobnicate'), /unknown command/);
    oneLineFailure(cli('run', '--model', FIXTURES, '--ids', '1,x', '--out', '/tmp/x'), /--ids must be/);
    oneLineFailure(cli('run', '--model', join(FIXTURES, 'gpt2'), '--format', 'onnx', '--ids', '1', '--out', '/tmp/x'), /model\.onnx.*onnx\/ subfolder/);
  });

  it('fails with one line: unsupported model_type, missing tokenizer, prompt beyond the context', () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cli-bad-'));
    cpSync(join(FIXTURES, 'gpt2'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'bloom' }));
    oneLineFailure(cli('run', '--model', dir, '--ids', '1', '--out', join(dir, 'o')), /bloom.*gpt2/s);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const ids = Array.from({ length: config.n_positions + 1 }, () => 5).join(',');
    oneLineFailure(cli('run', '--model', dir, '--ids', ids, '--out', join(dir, 'o')), new RegExp(`${config.n_positions + 1} tokens.*${config.n_positions}`));
    spawnSync('rm', [join(dir, 'tokenizer.json')]);
    oneLineFailure(cli('run', '--model', dir, '--ids', '1', '--out', join(dir, 'o')), /tokenizer/i);
  });
});

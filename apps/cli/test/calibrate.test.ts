/** `headscope run` with ACT / ZeroTuning and `headscope calibrate` on a task file with bad lines. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { streamTensors } from '@headscope/models';
import { NodeDirSource } from '@headscope/models/node';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/args.js';

const ROOT = resolve(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/models');
const cli = (...args: string[]) => {
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'apps/cli/src/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

async function readAll(file: string) {
  const out = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  for await (const t of streamTensors(new NodeDirSource(join(file, '..')), [file.split('/').at(-1)!])) out.set(t.name, { shape: t.shape, data: t.data });
  return out;
}

describe('headscope run with calibration', () => {
  it('--act 1.0,1.3 --zerotuning all --zerotuning-gamma 2 --pre: calibrated logits and maps, attn_pre = the maps before ACT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cal-'));
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'llama_gqa/reference.json'), 'utf8'));
    const model = join(FIXTURES, 'llama_gqa');
    const r = cli(
      'run',
      '--model',
      model,
      '--prompt',
      ref.prompt,
      '--act',
      '1.0,1.3',
      '--act-beta',
      '0.3',
      '--zerotuning',
      'all',
      '--zerotuning-gamma',
      '2',
      '--pre',
      '--out',
      join(dir, 'cal.safetensors'),
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).interventions).toHaveLength(1 + 1 + 12);
    const a = await readAll(join(model, 'reference.safetensors')); // transformers, uncalibrated
    const b = await readAll(join(dir, 'cal.safetensors'));
    expect(a.has('attn_pre.0')).toBe(false);
    const diff = (x: ArrayLike<number>, y: ArrayLike<number>) => Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i]!)));
    expect(diff(a.get('logits')!.data, b.get('logits')!.data)).toBeGreaterThan(1e-3);
    // Layer 0 has ZeroTuning only (no rewrite): pre = post. Layer 1 heads 0 and 3 were rewritten.
    expect(diff(b.get('attn_pre.0')!.data, b.get('attn.0')!.data)).toBe(0);
    expect(diff(b.get('attn_pre.1')!.data, b.get('attn.1')!.data)).toBeGreaterThan(1e-3);
  });

  it('a head that does not exist is one clear line; τ without --act is a usage error', () => {
    const r = cli('run', '--model', join(FIXTURES, 'gpt2'), '--ids', '5,6,7', '--act', '1.9', '--out', '/tmp/x.safetensors');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UnknownHeadError: "1\.9" is not a head of this model\. Write heads as layer\.head.*heads 0–3/);
    expect(() => parseCommand(['run', '--model', 'm', '--ids', '5', '--act-tau', '0.2', '--out', 'x'])).toThrow(/need --act HEADS/);
    expect(() => parseCommand(['run', '--model', 'm', '--ids', '5', '--act', 'all', '--act-tau', '0.2', '--act-alpha', '2', '--out', 'x'])).toThrow(
      /exclude each other/,
    );
    expect(() => parseCommand(['calibrate', '--model', 'm', '--task-set', 'nope', '--method', 'act'])).toThrow(
      /--task-set must be one of pronouns\|sequences\|indirect-object/,
    );
  });
});

describe('headscope calibrate', () => {
  it('ZeroTuning search on a task file: bad lines named by number, the rest used; before/after on both splits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-cal-'));
    const good = (prompt: string, label: number) => JSON.stringify({ prompt, choices: [' keeper', ' boats'], label });
    const lines = [
      good('The old keeper watched the small', 1),
      '{"prompt": "The old", choices: []}',
      good('The children ran to the', 0),
      JSON.stringify({ prompt: 'The keeper lit the', choices: [' lamp', ' storm'], label: 2 }),
      JSON.stringify({ prompt: 'The keeper lit the', choices: [' lamp', ''], label: 0 }),
      good('From the top he watched the small', 1),
    ];
    const task = join(dir, 'task.jsonl');
    writeFileSync(task, lines.join('\n'));
    const out = join(dir, 'report.json');
    const r = cli('calibrate', '--model', join(FIXTURES, 'gpt2'), '--task', task, '--method', 'zerotuning', '--gamma-grid', '0.5,1,2', '--json', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/task line 2 skipped: not valid JSON/);
    expect(r.stderr).toMatch(/task line 4 skipped: "label" 2 is out of range: it must be 0–1/);
    expect(r.stderr).toMatch(/task line 5 skipped: choice 1 \(""\) is empty after tokenisation/);
    expect(r.stderr).toMatch(/gamma: \d+\/\d+ forward passes/);
    expect(r.stdout).toMatch(/held-out split: before/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.examples).toEqual({ choose: 2, heldOut: 1 });
    expect(report.detail.grid.map((p: { gamma: number }) => p.gamma)).toEqual([0.5, 1, 2]);
    expect(report.detail.profile).toHaveLength(4);
    expect(report.before.heldOut.n).toBe(1);
  }, 300_000);
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCsv, SCORES } from '@headscope/analysis';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PlantedModel, plantedModel, writePlantedModel } from '../../../packages/models/test/helpers/planted-heads.js';
import { analyzeInputs } from '../src/analyze.js';

const ROOT = resolve(__dirname, '../../..');
const BIN = join(ROOT, 'scripts/headscope.mjs');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The JSON keys the issue fixes, per head (later detectors add their own).
const HEAD_KEYS = [
  'layer',
  'head',
  'first_token_sink',
  'previous_token',
  'duplicate_token',
  'induction',
  'previous_token_tl',
  'duplicate_token_tl',
  'induction_tl',
  'entropy',
  'hidden_sinks',
];

// Each case spawns the CLI (tsx + Dawn): generous timeouts for a loaded machine.
describe('headscope analyze (the head atlas in Node)', { timeout: 900_000 }, () => {
  let planted: PlantedModel;
  let dir: string;
  let work: string;
  beforeAll(() => {
    planted = plantedModel();
    dir = writePlantedModel(planted);
    work = mkdtempSync(join(tmpdir(), 'headscope-analyze-'));
  });

  it('default prompts cut to the 32-token context (not refused); --json/--csv: every key, the planted heads, CSV = JSON, bytes', () => {
    const r = cli('analyze', '--model', dir, '--json', join(work, 'a.json'), '--csv', join(work, 'a.csv'));
    expect(r.stderr).toMatch(/read back [\d.]+ KiB per sequence of [\d.]+ KiB captured/);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(join(work, 'a.json'), 'utf8'));
    expect(json).toMatchObject({ prompts: 4, cut: 4, prompt_tokens: [32, 32, 32, 32] });
    expect(json.heads).toHaveLength(8);
    for (const h of json.heads) for (const k of HEAD_KEYS) expect(h).toHaveProperty(k);
    expect(json).toHaveProperty('findings');
    expect(json.sink_rate).toMatchObject({ epsilon: 0.3, count: 4, total: 32, rate: 12.5 });
    expect(json.best.induction).toMatchObject({ layer: planted.find('induction')[0], head: planted.find('induction')[1] });
    expect(json.best.previous_token).toMatchObject({ layer: 0, head: planted.find('previous-token')[1] });
    const dot = json.heads.find((h: { layer: number; head: number }) => h.layer === 0 && h.head === planted.find('attend-token')[1]);
    expect(dot.hidden_sinks.map((s: { token: string }) => s.token)).toContain('.');
    expect(dot.hidden_sinks[0]).toEqual({ prompt: expect.any(Number), position: expect.any(Number), token: expect.any(String), imp: expect.any(Number) });
    expect(json.bytes.read_back * 4).toBeLessThan(json.bytes.captured);
    const csv = readCsv(readFileSync(join(work, 'a.csv'), 'utf8'));
    expect(csv).toHaveLength(8);
    csv.forEach((row, i) => {
      for (const s of SCORES) if (json.heads[i][s.key] !== undefined) expect(row[s.key]).toBe(json.heads[i][s.key]);
    });
  });

  it('bad input: each a message with the fix (files and settings before any model loads; a long prompt with --max-tokens 0)', () => {
    writeFileSync(join(work, 'empty.txt'), '\n\n');
    writeFileSync(join(work, 'broken.jsonl'), '{"prompt": "a"}\nnot json\n');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ promptsFile: join(work, 'empty.txt') }, /no prompts were found/],
      [{ promptsFile: join(work, 'broken.jsonl') }, /line 2 is not valid JSON/],
      [{ promptsFile: join(work, 'missing.txt') }, /cannot read --prompts .*missing\.txt \(ENOENT\)\. Give the path of a \.txt, \.jsonl or \.csv file/],
      [{ settings: { epsilon: 2 } }, /Setting "Sink ε" \(epsilon\) cannot be 2\. Use a number from 0 to 1/],
      [{ settings: { tl_mode: 'sum' } }, /cannot be "sum"\. Use one of mul, abs/],
    ];
    for (const [options, message] of cases) expect(() => analyzeInputs({ settings: {}, ...options })).toThrow(message);
    const r = cli('analyze', '--model', dir, '--max-tokens', '0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PromptTooLongError: Prompt 1 has \d+ tokens; the model's context holds 32\. Shorten it, or set/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const GPT2 = join(ROOT, 'test/fixtures/models/gpt2');
const MAIN = join(ROOT, 'apps/cli/src/main.ts');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function cli(...args: string[]) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('headscope retrieval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'headscope-retrieval-'));
  const needles = join(dir, 'needles.jsonl');
  writeFileSync(needles, `${JSON.stringify({ needle: ' The boat is called Merrow.', question: ' The boat is called', answer: ' Merrow' })}\n`);

  it('writes the JSON of the issue: tests, counted, accuracy per length and depth, heads, masking', () => {
    const out = join(dir, 'r.json');
    const r = cli(
      'retrieval',
      '--model',
      GPT2,
      '--needles',
      needles,
      '--lengths',
      '24',
      '--depths',
      '0,100',
      '--max-new-tokens',
      '2',
      '--mask-top',
      '1',
      '--json',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tests counted/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.tests).toHaveLength(2);
    expect(j.tests[0]).toMatchObject({ length: 24, depth: 0, needleIndex: 0 });
    expect(typeof j.tests[0].response).toBe('string');
    expect(j.counted).toBe(j.tests.filter((t: { counted: boolean }) => t.counted).length);
    expect(j.accuracy.cells.map((c: { length: number; depth: number }) => [c.length, c.depth])).toEqual([
      [24, 0],
      [24, 100],
    ]);
    expect(j.heads).toHaveLength(j.model.layers * j.model.heads);
    expect(j.heads[0]).toEqual({ layer: 0, head: 0, retrieval: expect.any(Number) });
    expect(j.masking.top.heads).toHaveLength(1);
    expect(j.masking.random.heads).toHaveLength(1);
    expect(typeof j.masking.top.accuracy).toBe('number');
  });

  it('bad input: an answer not in the needle, lengths beyond the context, an empty haystack — one line each, exit 1', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"needle": " The boat is called Merrow.", "question": " Boat?", "answer": " Selkie"}\n');
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n  \n');
    const cases: [string[], RegExp][] = [
      [['--needles', bad], /AnswerNotInNeedleError: Needle file line 1: the answer " Selkie" does not occur in the needle/],
      [
        ['--needles', needles, '--lengths', '24,4000'],
        /LengthBeyondContextError: Context length 4000 does not fit: the model's context is \d+ tokens.*Choose lengths up to \d+/,
      ],
      [['--needles', needles, '--haystack', empty, '--lengths', '24'], /EmptyHaystackError: The haystack text is empty/],
      [['--needles', join(dir, 'missing.jsonl')], /--needles .* does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = cli('retrieval', '--model', GPT2, ...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

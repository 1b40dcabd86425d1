import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePlantedSuccessorModel } from '../../../test/support/successor-model.js';

const ROOT = resolve(__dirname, '../../..');
const cli = (...args: string[]) =>
  spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'apps/cli/src/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

describe('headscope analyze: successor heads', () => {
  it('adds successor, successor_tasks and successor_behaviour to every head, the task report and the best head; --successor-variant is checked', () => {
    const model = writePlantedSuccessorModel();
    const prompts = join(mkdtempSync(join(tmpdir(), 'headscope-prompts-')), 'p.txt');
    writeFileSync(prompts, ' Monday, Tuesday, Wednesday,\n');
    const r = cli('analyze', '--model', model, '--prompts', prompts, '--probe-n', '4', '--max-tokens', '8', '--successor-variant', 'mlp0+embedding');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.successor.variant).toBe('mlp0+embedding');
    expect(report.successor.tasks).toContain('numbers: 20 of 200 single tokens');
    expect(report.best.successor).toEqual({ layer: 1, head: 5, score: 1 });
    const head = report.heads.find((h: { layer: number; head: number }) => h.layer === 1 && h.head === 5);
    expect(head.successor_tasks).toEqual({ numbers: 1, ordinals: 1, days: 1, months: 1 });
    expect(report.heads.find((h: { layer: number; head: number }) => h.layer === 0 && h.head === 2).successor).toBeLessThanOrEqual(0.1);
    expect(report.heads.every((h: { successor: number }) => h.successor >= 0 && h.successor <= 1)).toBe(true);
    // The behavioural check beside the weight score: ordinal runs and matched controls, numbers per head.
    expect(report.successor.behaviour_prompts).toContain('ordinal: Monday, Tuesday, Wednesday,');
    expect(report.successor.behaviour_prompts.filter((p: string) => p.startsWith('control:'))).toHaveLength(report.successor.behaviour_prompts.length / 2);
    for (const h of report.heads) {
      expect(Object.keys(h.successor_behaviour).sort()).toEqual(['attention', 'control_attention', 'control_margin', 'holds', 'margin', 'successor_wins']);
      expect(h.successor_behaviour.attention).toBeGreaterThanOrEqual(0);
      expect(h.successor_behaviour.attention).toBeLessThanOrEqual(1);
    }
    const bad = cli('analyze', '--model', model, '--successor-variant', 'mlp1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--successor-variant must be one of mlp0, mlp0\+embedding, embedding/);
  });
});

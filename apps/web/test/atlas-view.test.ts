/**
 * The head atlas in the worker's host (CPU path here: Node has no navigator.gpu) with progress and cancel,
 * and the view's pure functions on its result: the findings table's rows (sort, filter, shown strings), its
 * CSV equal to those rows, the thresholds, colour domains and the prompt that opens a head's evidence.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AtlasCancelledError, type AtlasProgress, type AtlasResult, type Finding, parseCsv } from '@headscope/analysis';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../src/engine/host.js';
import { domainOf, evidencePrompt, findingRows, findingRowsCsv, scatterStep, thresholdOf } from '../src/lib/atlas-view.js';
import { formatValue } from '../src/lib/format.js';

const FIXTURE = resolve(__dirname, '../../../test/fixtures/models/gpt2');
const FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const PROMPTS = ['The cat sat on the mat. The cat sat on the mat.', 'One, two, three. One, two, three.', 'A b c d. A b c d.'];
const SETTINGS = { probe_n: 8, max_tokens: 16, induction_threshold: 0, previous_token_threshold: 0 };

describe('the head atlas in the engine host and the view functions', () => {
  let host: EngineHost;
  let result: AtlasResult;
  const progress: AtlasProgress[] = [];

  beforeAll(async () => {
    host = new EngineHost('http://localhost');
    const ref = { kind: 'local' as const, name: 'gpt2 fixture', files: FILES.map((f) => new File([readFileSync(join(FIXTURE, f))], f)) };
    await host.load(ref, new AbortController().signal, () => undefined);
    result = await host.atlas({ prompts: PROMPTS, settings: SETTINGS, bos: false }, new AbortController().signal, (p) => progress.push(p));
  });

  it('reports progress per sequence and is cancelled by the signal', async () => {
    expect(progress.map((p) => p.done)).toEqual([0, 1, 2, 3, 4]);
    expect(progress.every((p) => p.total === 4)).toBe(true);
    expect(result).toMatchObject({ layers: 2, heads: 4, prompts: 3 });
    const controller = new AbortController();
    const run = host.atlas({ prompts: PROMPTS, settings: SETTINGS, bos: false }, controller.signal, (p) => p.done === 1 && controller.abort());
    await expect(run).rejects.toBeInstanceOf(AtlasCancelledError);
    await expect(host.atlas({ prompts: PROMPTS, settings: { epsilon: 2 }, bos: false }, controller.signal, () => undefined)).rejects.toThrow(
      /Sink ε.*cannot be 2\. Use a number from 0 to 1/,
    );
  });

  it('findings: sorted and filtered rows, the CSV equal to the shown strings', () => {
    const all = findingRows(result.findings, 'all', { column: 'score', descending: true });
    expect(all.length).toBe(result.findings.length);
    const scores = all.map((r) => r.finding.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const induction = findingRows(result.findings, 'induction', { column: 'head', descending: false });
    // Threshold 0: every head with a positive induction score, in head order.
    const positive = result.table.filter((r) => r.scores['induction']! > 0).map((r) => `L${r.layer}H${r.head}`);
    expect(positive.length).toBeGreaterThan(1);
    expect(induction.map((r) => r.cells[1])).toEqual(positive);
    for (const r of induction) {
      const row = result.table[r.finding.layer * 4 + r.finding.head]!;
      expect(r.cells[2]).toBe(formatValue(row.scores['induction']!));
      expect(r.cells[4]).toMatch(/^TL on the probe [\d.e-]+, on the prompts [\d.e-]+$/);
    }
    const csv = parseCsv(findingRowsCsv(all));
    expect(csv[0]).toEqual(['kind', 'head', 'score', 'threshold', 'evidence']);
    expect(csv.slice(1)).toEqual(all.map((r) => r.cells));
    const hidden: Finding = { kind: 'hidden-sink', layer: 0, head: 1, score: 0.2, threshold: 0.1, evidence: { tokens: [{ token: ' ,', hits: 3 }], hits: 3 } };
    expect(findingRows([hidden], 'all', { column: 'kind', descending: false })[0]!.cells[4]).toBe('“·,” ×3 (3 hits)');
  });

  it('thresholds, colour domains and the evidence prompt', () => {
    expect(thresholdOf(result, 'induction')).toBe(0);
    expect(thresholdOf(result, 'first_token_sink')).toBe(0.3);
    expect(thresholdOf(result, 'entropy')).toBeUndefined();
    expect(domainOf(result, 'induction')).toEqual([0, 1]);
    const entropy = domainOf(result, 'entropy');
    expect(entropy[0]).toBe(0);
    expect(entropy[1]).toBeGreaterThanOrEqual(Math.max(...result.table.map((r) => r.scores['entropy']!)));
    const row = result.table[5]!;
    const values = row.perPrompt['entropy']!;
    expect(values[evidencePrompt(row, 'entropy')]).toBe(Math.max(...values));
    expect(evidencePrompt(row, 'induction')).toBe(row.topTokens[0]!.prompt);
  });
});

describe('scatterStep: the keyboard walk over the atlas scatter', () => {
  const pts = [
    { layer: 0, head: 0, x: 0.5, y: 0.1 },
    { layer: 0, head: 1, x: 0.2, y: 0.9 },
    { layer: 1, head: 0, x: 0.2, y: 0.4 },
    { layer: 1, head: 1, x: 0.9, y: 0.4 },
  ];
  it('steps by x with Left/Right and by y with Down/Up, ties in layer then head order, stopping at the ends', () => {
    expect(scatterStep(pts, { layer: 0, head: 0 }, 'ArrowRight')).toEqual({ layer: 1, head: 1 });
    expect(scatterStep(pts, { layer: 0, head: 0 }, 'ArrowLeft')).toEqual({ layer: 1, head: 0 });
    expect(scatterStep(pts, { layer: 1, head: 0 }, 'ArrowLeft')).toEqual({ layer: 0, head: 1 });
    expect(scatterStep(pts, { layer: 0, head: 1 }, 'ArrowLeft')).toEqual({ layer: 0, head: 1 });
    expect(scatterStep(pts, { layer: 1, head: 0 }, 'ArrowUp')).toEqual({ layer: 1, head: 1 });
    expect(scatterStep(pts, { layer: 1, head: 1 }, 'ArrowUp')).toEqual({ layer: 0, head: 1 });
    expect(scatterStep(pts, { layer: 0, head: 1 }, 'ArrowUp')).toEqual({ layer: 0, head: 1 });
    expect(scatterStep(pts, { layer: 1, head: 0 }, 'ArrowDown')).toEqual({ layer: 0, head: 0 });
  });
  it('starts at the first point from a head that is not drawn; other keys and no points give nothing', () => {
    expect(scatterStep(pts, { layer: 5, head: 5 }, 'ArrowUp')).toEqual({ layer: 0, head: 0 });
    expect(scatterStep(pts, { layer: 0, head: 0 }, 'Tab')).toBeUndefined();
    expect(scatterStep([], { layer: 0, head: 0 }, 'ArrowUp')).toBeUndefined();
  });
});

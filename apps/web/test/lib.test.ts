import { describe, expect, it } from 'vitest';
import { fitScale, lut } from '../src/lib/colour.js';
import { fileStem, matrixCsv, matrixJson } from '../src/lib/export.js';
import { formatBytes, formatValue, tokenLabel } from '../src/lib/format.js';
import { PromptFileError, parseCsv, parsePromptFile } from '../src/lib/prompt-sets.js';

describe('formatValue', () => {
  it('writes the shortest decimal that reads back as the same float32', () => {
    const xs = Float32Array.of(0.1, 1 / 3, 1e-7, 0.999999, 0.5, 0, 1);
    for (const x of xs) {
      const s = formatValue(x);
      expect(Math.fround(Number(s))).toBe(x);
    }
    expect(formatValue(Math.fround(0.1))).toBe('0.1');
    expect(formatValue(Math.fround(1 / 3))).toBe('0.33333334');
  });
  it('formats sizes and labels', () => {
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(tokenLabel(' the')).toBe('·the');
    expect(tokenLabel('abcdefghijklmnop', 5)).toBe('abcd…');
  });
});

describe('colour scales', () => {
  const values = Float32Array.of(0, 0.01, 0.1, 0.5, 1);
  it('linear spans 0..max', () => {
    const s = fitScale(values, 'linear', 'viridis');
    expect(s.t(0)).toBe(0);
    expect(s.t(0.5)).toBeCloseTo(0.5);
    expect(s.t(1)).toBe(1);
  });
  it('log spreads small values and maps zero to the bottom', () => {
    const s = fitScale(values, 'log', 'cividis');
    expect(s.t(0)).toBe(0);
    expect(s.t(0.1)).toBeGreaterThan(0.5);
  });
  it('rank is uniform in rank, with ties sharing a colour', () => {
    const s = fitScale(Float32Array.of(0, 0, 0.2, 0.9), 'rank', 'viridis');
    expect(s.t(0)).toBeCloseTo(1 / 6);
    expect(s.t(0.9)).toBe(1);
  });
  it('leaves excluded cells out of the fit', () => {
    const s = fitScale(Float32Array.of(0.9, 0.1, 0.2), 'linear', 'viridis', (i) => i !== 0);
    expect(s.domain[1]).toBeCloseTo(0.2);
    expect(s.t(0.9)).toBe(1);
  });
  it('has 256 colours per scheme', () => {
    expect(lut('viridis').length).toBe(768);
    expect([...lut('viridis').subarray(0, 3)]).toEqual([68, 1, 84]);
  });
});

describe('matrix exports', () => {
  const m = { model: 'm', layer: 1, head: 2, ids: [5, 6], tokens: ['a,b', ' "c"'], values: Float32Array.of(1, 0, 0.25, 0.75) };
  it('CSV has a header of key positions and quoted token texts', () => {
    expect(matrixCsv(m)).toBe('query,token,0,1\n0,"a,b",1,0\n1," ""c""",0.25,0.75\n');
  });
  it('JSON round-trips the values', () => {
    const j = JSON.parse(matrixJson(m));
    expect(j.values).toEqual([
      [1, 0],
      [0.25, 0.75],
    ]);
    expect(j.tokens[1]).toEqual({ id: 6, text: ' "c"' });
  });
  it('makes safe file names', () => {
    expect(fileStem('owner/name@main', 'L0H1')).toBe('owner-name-main_L0H1');
  });
});

describe('prompt sets', () => {
  it('reads .txt lines, .jsonl prompt fields and .csv prompt columns', () => {
    expect(parsePromptFile('a.txt', 'one\r\n\ntwo\n').prompts).toEqual(['one', 'two']);
    expect(parsePromptFile('a.jsonl', '{"prompt":"x","id":1}\n\n{"prompt":"y"}\n').prompts).toEqual(['x', 'y']);
    expect(parsePromptFile('a.csv', 'id,prompt\n1,"hello, world"\n2,"multi\nline"\n').prompts).toEqual(['hello, world', 'multi\nline']);
  });
  it('says what is wrong with a bad file', () => {
    expect(() => parsePromptFile('a.jsonl', '{"prompt":"x"}\nnot json')).toThrow(/line 2 is not valid JSON/);
    expect(() => parsePromptFile('a.jsonl', '{"text":"x"}')).toThrow(PromptFileError);
    expect(() => parsePromptFile('a.csv', 'text\nx')).toThrow(/no "prompt" column/);
    expect(() => parsePromptFile('a.pdf', 'x')).toThrow(/not prompt sets/);
    expect(() => parsePromptFile('a.txt', '\n\n')).toThrow(/no prompts/);
  });
  it('parses quoted CSV fields', () => {
    expect(parseCsv('a,"b ""q""",c\r\n1,2,3')).toEqual([
      ['a', 'b "q"', 'c'],
      ['1', '2', '3'],
    ]);
  });
});

describe('model cache listing', () => {
  it('groups cached files per model folder with hub labels', async () => {
    const { groupCached } = await import('../src/lib/model-cache.js');
    const base = 'https://huggingface.co/EleutherAI/pythia-14m/resolve/main/';
    const g = groupCached([
      { url: `${base}config.json`, bytes: 100 },
      { url: `${base}model.safetensors`, bytes: 1000 },
      { url: 'http://x/models/a/config.json', bytes: 5 },
    ]);
    expect(g).toEqual([
      { base, label: 'EleutherAI/pythia-14m@main', files: 2, bytes: 1100 },
      { base: 'http://x/models/a/', label: 'http://x/models/a/', files: 1, bytes: 5 },
    ]);
  });
});

describe('model references', () => {
  it('reads ?model= and ?hubEndpoint= from the URL, with the bundled default otherwise', async () => {
    const { initialModel, modelKey } = await import('../src/engine/model-ref.js');
    expect(initialModel('', '/').ref).toEqual({ kind: 'bundled', id: 'headscope-tiny', baseUrl: '/models/headscope-tiny/' });
    expect(initialModel('?model=bundled:dev-fixture', '/app/').ref).toEqual({ kind: 'bundled', id: 'dev-fixture', baseUrl: '/app/models/dev-fixture/' });
    expect(initialModel('?model=bundled:../x').ref).toMatchObject({ id: 'headscope-tiny' });
    expect(initialModel('?model=hub:a/b@main')).toMatchObject({ hubRepo: 'a/b@main', ref: { id: 'headscope-tiny' } });
    expect(initialModel('?hubEndpoint=/hub').hubEndpoint).toBe('/hub');
    expect(initialModel('?hubEndpoint=https://evil.example').hubEndpoint).toBeNull();
    expect(modelKey({ kind: 'hub', repo: 'a/b', endpoint: '/hub' })).toBe('hub:/hub|a/b');
  });
});

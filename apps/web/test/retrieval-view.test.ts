/**
 * The retrieval lab's page-side logic: the grid drawn from streamed tests, the texts and colours of its
 * cells, the exports (which must carry the drawn numbers), and the settings the worker parses (bad input
 * becomes a typed error with a fix, before any test runs).
 */
import { AnswerNotInNeedleError, EmptyHaystackError, GridSettingError, NeedleFileError } from '@headscope/analysis';
import { describe, expect, it } from 'vitest';
import { retrievalSettings } from '../src/engine/retrieval.js';
import type { RetrievalTestRow } from '../src/engine/retrieval-protocol.js';
import { evidenceText } from '../src/lib/atlas-view.js';
import { lut } from '../src/lib/colour.js';
import { cellPercent, cellRgb, cellText, liveSummary, niahCsv, niahGrid, niahJson, textColour, topHeadsOf } from '../src/lib/retrieval-view.js';

const row = (length: number, depth: number, recall: number, scores: number[], phase: RetrievalTestRow['phase'] = 'grid'): RetrievalTestRow => ({
  phase,
  index: 0,
  needleIndex: 0,
  length,
  depth,
  response: '',
  recall,
  counted: recall > 0.5,
  promptTokens: length,
  steps: [],
  scores: Float64Array.from(scores),
  seconds: 0,
});

describe('NIAH grid from streamed tests', () => {
  // Two needles at (64, 0), one at (64, 100); the masking re-runs must not enter the grid.
  const rows = [row(64, 0, 1, [0.5, 0]), row(64, 0, 0, [0, 0]), row(64, 100, 1, [1, 0.25]), row(64, 100, 0, [0, 0], 'mask-top')];
  const s = liveSummary(rows, 2);
  const grid = niahGrid([64, 128], [0, 100], s.cells);

  it('rows = depths, columns = lengths; cells not run yet are pending', () => {
    expect(grid.cells.map((r) => r.map((c) => [c.depth, c.length, c.tests, c.retrieved]))).toEqual([
      [
        [0, 64, 2, 1],
        [0, 128, 0, 0],
      ],
      [
        [100, 64, 1, 1],
        [100, 128, 0, 0],
      ],
    ]);
    expect(grid.cells.map((r) => r.map(cellText))).toEqual([
      ['50%', '…'],
      ['100%', '…'],
    ]);
    expect(cellPercent(grid.cells[0]![1]!)).toBeNull();
  });

  it('head scores are means over the counted tests only', () => {
    expect(s.counted).toBe(2);
    expect(Array.from(s.retrieval)).toEqual([0.75, 0.125]);
    expect(topHeadsOf(s.retrieval, 2, 1)).toEqual([{ layer: 0, head: 0, retrieval: 0.75 }]);
  });

  it('colours: viridis at the accuracy on a fixed 0–100 % ramp, grey while pending; readable text', () => {
    const v = lut('viridis');
    expect(cellRgb(grid.cells[1]![0]!)).toEqual([v[255 * 3], v[255 * 3 + 1], v[255 * 3 + 2]]);
    expect(cellRgb(grid.cells[0]![0]!)).toEqual([v[128 * 3], v[128 * 3 + 1], v[128 * 3 + 2]]);
    expect(cellRgb(grid.cells[0]![1]!)).toEqual([221, 221, 221]);
    expect(textColour([v[0]!, v[1]!, v[2]!])).toBe('#fff');
    expect(textColour([v[765]!, v[766]!, v[767]!])).toBe('#000');
  });

  it('CSV and JSON carry the drawn percentages and the counts behind them', () => {
    expect(niahCsv(grid).trim().split('\n')).toEqual([
      'length,depth,tests,retrieved,accuracy,accuracy_percent',
      '64,0,2,1,0.5,50',
      '128,0,0,0,,',
      '64,100,1,1,1,100',
      '128,100,0,0,,',
    ]);
    const j = JSON.parse(niahJson(grid, { model: 'm', tests: 3, counted: 2, needles: 2, maxNewTokens: 50, heads: [] }));
    expect(j.cells.map((c: { accuracy_percent: number | null }) => c.accuracy_percent)).toEqual([50, null, 100, null]);
    expect(j).toMatchObject({ lengths: [64, 128], depths: [0, 100], counted: 2 });
  });
});

describe('lab settings from the page', () => {
  const base = { lengths: '', depths: '', maxNewTokens: 50, maskTop: 0, seed: 0 };
  it('defaults stay unset; lists are parsed', () => {
    expect(retrievalSettings(base)).toEqual({ maxNewTokens: 50, maskTop: 0, seed: 0 });
    expect(retrievalSettings({ ...base, lengths: '64, 128', depths: '0,50' })).toMatchObject({ lengths: [64, 128], depths: [0, 50] });
  });
  it('bad input is a typed error that says what to do', () => {
    const needle = (answer: string) => JSON.stringify({ needle: ' The boat is Merrow.', question: ' Boat?', answer });
    expect(() => retrievalSettings({ ...base, needlesJsonl: needle(' Selkie') })).toThrow(AnswerNotInNeedleError);
    expect(() => retrievalSettings({ ...base, needlesJsonl: '{oops' })).toThrow(NeedleFileError);
    expect(() => retrievalSettings({ ...base, haystack: ' \n ' })).toThrow(EmptyHaystackError);
    expect(() => retrievalSettings({ ...base, lengths: '64,x' })).toThrow(GridSettingError);
    expect(retrievalSettings({ ...base, needlesJsonl: needle(' Merrow') }).needles).toHaveLength(1);
  });
});

describe('retrieval findings in the atlas', () => {
  it('the findings table says how many needle tests stand behind a retrieval head', () => {
    const f = { kind: 'retrieval' as const, layer: 1, head: 0, score: 0.9, threshold: 0.1, evidence: { counted_tests: 3, tests: 4 } };
    expect(evidenceText(f)).toBe('3 of 4 needle tests retrieved the answer (retrieval lab)');
  });
});

/**
 * The retrieval lab (methods.md §4): needle-in-a-haystack tests over context lengths × needle depths on
 * the loaded model, run in the engine worker with progress and cancel; the NIAH accuracy heatmap, each
 * head's retrieval score, the masking check, one test in detail, and exports of what is drawn.
 */
import { BUILTIN_HAYSTACK_SOURCE, BUILTIN_NEEDLES, EmptyHaystackError, parseNeedlesJsonl } from '@headscope/analysis';
import { type ChangeEvent, useMemo } from 'react';
import type { LoadedSummary } from '../engine/protocol.js';
import { useRetrievalRun } from '../hooks/use-retrieval-run.js';
import { canvasBlob, download, fileStem } from '../lib/export.js';
import { drawNiah, niahSize } from '../lib/retrieval-draw.js';
import { formatDuration, liveSummary, niahCsv, niahGrid, niahJson, topHeadsOf } from '../lib/retrieval-view.js';
import { useRetrievalStore } from '../state/retrieval-store.js';
import { useViewStore } from '../state/view-store.js';
import { NiahHeatmap } from './retrieval/NiahHeatmap.js';
import { MaskingChart, RetrievalHeads } from './retrieval/RetrievalHeads.js';
import { RetrievalTestView } from './retrieval/RetrievalTestView.js';

interface Props {
  model: string;
  modelName: string;
  info: LoadedSummary;
}

const errorInfo = (e: unknown) => ({
  name: (e as Error).name,
  message: (e as Error).message,
  ...((e as { fix?: string }).fix ? { fix: (e as { fix: string }).fix } : {}),
});

function Settings({ running }: { running: boolean }) {
  const s = useRetrievalStore();
  const onNeedles = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    const text = await file.text();
    try {
      const n = parseNeedlesJsonl(text);
      s.set({ needles: { kind: 'file', name: file.name, text, detail: `${n.length} needle${n.length === 1 ? '' : 's'}` }, inputError: null });
    } catch (err) {
      s.set({ inputError: errorInfo(err) });
    }
  };
  const onHaystack = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    const text = await file.text();
    if (text.trim() === '') s.set({ inputError: errorInfo(new EmptyHaystackError()) });
    else s.set({ haystack: { kind: 'file', name: file.name, text, detail: `${text.length.toLocaleString()} characters` }, inputError: null });
  };
  return (
    <fieldset className="retrieval-settings" disabled={running}>
      <legend>Needle tests</legend>
      <div>
        Needles: {s.needles.kind === 'builtin' ? `${BUILTIN_NEEDLES.length} built-in` : `${s.needles.name} (${s.needles.detail})`}{' '}
        <label>
          Upload needles (JSONL)
          <input type="file" accept=".jsonl,.json,.txt,application/json,text/plain" onChange={onNeedles} />
        </label>
        {s.needles.kind === 'file' && (
          <button type="button" onClick={() => s.set({ needles: { kind: 'builtin' } })}>
            Use built-in needles
          </button>
        )}
      </div>
      <div>
        Haystack: {s.haystack.kind === 'builtin' ? `built-in (${BUILTIN_HAYSTACK_SOURCE})` : `${s.haystack.name} (${s.haystack.detail})`}{' '}
        <label>
          Upload haystack (text)
          <input type="file" accept=".txt,text/plain" onChange={onHaystack} />
        </label>
        {s.haystack.kind === 'file' && (
          <button type="button" onClick={() => s.set({ haystack: { kind: 'builtin' } })}>
            Use built-in haystack
          </button>
        )}
      </div>
      <label>
        Context lengths (tokens){' '}
        <input type="text" value={s.lengths} placeholder="default: 10 from 256 to the context" onChange={(e) => s.set({ lengths: e.target.value })} />
      </label>
      <label>
        Depths (%) <input type="text" value={s.depths} placeholder="0,10,…,100" onChange={(e) => s.set({ depths: e.target.value })} />
      </label>
      <label>
        Answer budget (tokens){' '}
        <input type="number" min={1} max={200} value={s.maxNewTokens} onChange={(e) => s.set({ maxNewTokens: Math.max(1, Number(e.target.value) || 1) })} />
      </label>
      <label>
        Masking check: top K heads (0 = off){' '}
        <input type="number" min={0} max={64} value={s.maskTop} onChange={(e) => s.set({ maskTop: Math.max(0, Math.floor(Number(e.target.value) || 0)) })} />
      </label>
      {s.inputError && (
        <p role="alert" className="error">
          {s.inputError.message}
        </p>
      )}
    </fieldset>
  );
}

export function RetrievalLab({ model, modelName, info }: Props) {
  const s = useRetrievalStore();
  const lockHead = useViewStore((v) => v.lockHead);
  const { start, cancel } = useRetrievalRun(model);
  const running = s.status === 'running';
  const heads = info.nLayers * info.nHeads;
  const gpuOnly = info.runtime !== undefined && info.runtime !== 'Headscope WebGPU engine';
  const shown = s.model === model;
  const summary = useMemo(() => liveSummary(shown ? s.rows : [], heads), [s.rows, heads, shown]);
  const outcome = shown ? s.outcome : null;
  const retrieval = outcome?.retrieval ?? summary.retrieval;
  const counted = outcome?.counted ?? summary.counted;
  const testsRun = outcome?.tests.length ?? summary.tests;
  const grid = useMemo(() => niahGrid(s.lengthsRun, s.depthsRun, outcome?.accuracy.cells ?? summary.cells), [s.lengthsRun, s.depthsRun, outcome, summary]);
  const top = counted > 0 ? topHeadsOf(retrieval, info.nHeads, 8) : [];
  const viewHead = s.viewHead ?? top[0] ?? { layer: 0, head: 0 };
  const cell = grid.cells[s.cell.d]?.[s.cell.l];
  const cellTests = cell ? s.rows.filter((r) => r.phase === 'grid' && r.length === cell.length && r.depth === cell.depth) : [];
  const stem = fileStem(modelName, 'niah');
  const meta = () => ({
    model: modelName,
    tests: testsRun,
    counted,
    needles: s.needlesRun,
    maxNewTokens: s.request?.maxNewTokens ?? s.maxNewTokens,
    heads: top,
    ...(outcome?.masking ? { masking: outcome.masking } : {}),
  });
  const exportPng = async () => {
    const { width, height } = niahSize(grid);
    const cv = document.createElement('canvas');
    cv.width = width;
    cv.height = height;
    drawNiah(cv.getContext('2d')!, grid, `NIAH accuracy, ${modelName} (${testsRun} tests, ${counted} retrieved)`);
    download(await canvasBlob(cv), `${stem}.png`);
  };

  return (
    <section className="panel retrieval" aria-label="Retrieval lab">
      <h2>Retrieval lab</h2>
      <p className="muted">
        Needle-in-a-haystack tests (methods.md §4): greedy KV-cache decoding; a head scores when its strongest key at a step is the needle token just copied; a
        test counts only when the answer was retrieved.
      </p>
      {gpuOnly ? (
        <p className="notice">The retrieval lab needs the WebGPU engine (KV-cache decoding with captured rows); {info.runtime} cannot run it.</p>
      ) : (
        <>
          <Settings running={running} />
          <div className="toolbar" role="toolbar" aria-label="Retrieval run">
            <button type="button" onClick={start} disabled={running}>
              Run needle tests
            </button>
            <button type="button" onClick={cancel} disabled={!running}>
              Cancel
            </button>
            {shown && s.status !== 'idle' && (
              <>
                <progress aria-label="Retrieval progress" max={Math.max(1, s.total)} value={s.done} />
                <span aria-live="polite">
                  {s.done} / {s.total || '…'} tests
                  {running ? ` · ${formatDuration(s.etaMs)} left` : ''}
                  {s.status === 'cancelled' ? ` · cancelled after ${s.done} test${s.done === 1 ? '' : 's'}` : ''}
                  {s.status === 'done' ? ` · done in ${formatDuration(s.elapsedMs)}` : ''}
                </span>
              </>
            )}
          </div>
          {shown && s.error && (
            <p role="alert" className="error">
              {s.error.message}
            </p>
          )}
        </>
      )}
      {shown && s.lengthsRun.length > 0 && (
        <>
          <div className="toolbar" role="toolbar" aria-label="Retrieval exports">
            <button type="button" onClick={() => download(new Blob([niahCsv(grid)], { type: 'text/csv' }), `${stem}.csv`)}>
              Grid CSV
            </button>
            <button type="button" onClick={() => download(new Blob([niahJson(grid, meta())], { type: 'application/json' }), `${stem}.json`)}>
              Grid JSON
            </button>
            <button type="button" onClick={exportPng}>
              Heatmap PNG
            </button>
          </div>
          <div className="retrieval-results">
            <NiahHeatmap grid={grid} cell={s.cell} onFocusCell={(c) => s.set({ cell: c })} onView={(c) => s.set({ cell: c, viewing: true, needle: 0 })} />
            <div>
              <RetrievalHeads
                retrieval={retrieval}
                nHeads={info.nHeads}
                counted={counted}
                tests={testsRun}
                threshold={outcome?.threshold ?? 0.1}
                onPick={(h) => {
                  s.set({ viewHead: h });
                  lockHead(h);
                }}
              />
              {outcome?.masking &&
                (counted > 0 ? (
                  <MaskingChart masking={outcome.masking} />
                ) : (
                  <p className="notice">
                    Masking check: with no test counted there are no retrieval heads to mask (every score is unknown), so the comparison says nothing.
                  </p>
                ))}
            </div>
          </div>
          {s.viewing && s.request && cellTests.length > 0 && (
            <RetrievalTestView
              model={model}
              request={s.request}
              tests={cellTests}
              needle={s.needle}
              onNeedle={(n) => s.set({ needle: n })}
              head={viewHead}
              nHeads={info.nHeads}
            />
          )}
        </>
      )}
    </section>
  );
}

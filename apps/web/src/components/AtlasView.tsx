/**
 * The Head atlas: every detector of the registry over an uploaded prompt set (or the current prompt) and the
 * random-token probe, run in the engine worker with progress, cancel and restart, results cached by
 * (model, prompts, settings). Shows the layers × heads map coloured by any score, a scatter of two scores,
 * the head card, the findings table and the hidden-sink tokens over the set; exports CSV, JSON, SVG, PNG.
 */
import { atlasHeadsCsv, atlasJson, resolveSettings, type ScoreSpec } from '@headscope/analysis';
import { useMemo, useRef } from 'react';
import { useAtlas } from '../engine/atlas-query.js';
import type { AtlasRequest, LoadedSummary } from '../engine/protocol.js';
import { useWithRetrieval } from '../hooks/use-retrieval-run.js';
import { availableScores, domainOf, evidencePrompt, rowOf, scoreLabel, thresholdOf } from '../lib/atlas-view.js';
import { download, fileStem } from '../lib/export.js';
import { formatBytes, formatValue, headName, tokenLabel } from '../lib/format.js';
import { useAtlasStore } from '../state/atlas-store.js';
import { usePromptStore } from '../state/prompt-store.js';
import { useViewStore } from '../state/view-store.js';
import { AtlasMap } from './atlas/AtlasMap.js';
import { AtlasScatter } from './atlas/AtlasScatter.js';
import { AtlasSettings } from './atlas/AtlasSettings.js';
import { atlasMapSvg, atlasScale, svgToPng } from './atlas/atlas-scale.js';
import { FindingsTable } from './atlas/FindingsTable.js';
import { HeadCard } from './atlas/HeadCard.js';

const CURRENT = '';

function ScoreSelect({ label, scores, value, onChange }: { label: string; scores: readonly ScoreSpec[]; value: string; onChange(key: string): void }) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {scores.map((s) => (
          <option key={s.key} value={s.key}>
            {s.label}
          </option>
        ))}
      </select>
    </label>
  );
}

const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s` : '…');

export function AtlasView({ model, modelName, info }: { model: string; modelName: string; info: LoadedSummary }) {
  const sets = usePromptStore((s) => s.sets);
  const text = usePromptStore((s) => s.text);
  const bosChoice = usePromptStore((s) => s.bos);
  const { metric, scatterX, scatterY, settings, promptSet, setMetric, setScatter, setPromptSet } = useAtlasStore();
  const head = useViewStore((s) => s.head);
  const lockHead = useViewStore((s) => s.lockHead);
  const scatterRef = useRef<SVGSVGElement>(null);

  const chosen = promptSet === CURRENT ? undefined : (sets.find((s) => s.name === promptSet) ?? sets.at(-1));
  const prompts = useMemo(() => chosen?.prompts ?? [text], [chosen, text]);
  const bos = bosChoice ?? info.addBos;
  let settingsError: string | null = null;
  try {
    resolveSettings(settings);
  } catch (e) {
    settingsError = (e as Error).message;
  }
  const req = useMemo<AtlasRequest | null>(() => (settingsError ? null : { prompts, settings, bos }), [settingsError, prompts, settings, bos]);
  const { query, progress, cancelled, run, cancel } = useAtlas(model, req);
  // The retrieval lab's scores (when it has run on this model) join the atlas as the `retrieval` score.
  const r = useWithRetrieval(model, query.data);
  const running = query.isFetching;

  const scores = r ? availableScores(r) : [];
  const key = scores.some((s) => s.key === metric) ? metric : 'first_token_sink';
  const scale = useMemo(() => atlasScale(r ? domainOf(r, key) : [0, 1]), [r, key]);
  const threshold = r ? thresholdOf(r, key) : undefined;
  const shown = head.hover ?? head.locked;
  const cardHead = r && shown.layer < r.layers && shown.head < r.heads ? shown : { layer: 0, head: 0 };

  // Locks the head and runs the prompt of the set that shows its evidence best, then brings the heatmap into view.
  const openHeatmap = (layer: number, h: number) => {
    lockHead({ layer, head: h });
    const row = r && rowOf(r, layer, h);
    const p = row ? prompts[evidencePrompt(row, key)] : undefined;
    if (p !== undefined) {
      const store = usePromptStore.getState();
      store.setText(p);
      useViewStore.getState().setQuery(null);
      store.submit({ text: p, bos });
    }
    requestAnimationFrame(() => document.querySelector('section[aria-label="Heatmap"]')?.scrollIntoView({ block: 'start' }));
  };

  const stem = (what: string) => fileStem(modelName, what);
  const mapSvg = () => (r ? atlasMapSvg(r, key, scoreLabel(key), scale, threshold) : '');
  const scatterSvg = () => (scatterRef.current ? new XMLSerializer().serializeToString(scatterRef.current) : '');

  return (
    <section className="panel atlas" aria-label="Head atlas">
      <h2 className="atlas-title">Head atlas</h2>
      <div className="toolbar" role="toolbar" aria-label="Atlas run">
        <label>
          Prompts{' '}
          <select value={chosen?.name ?? CURRENT} onChange={(e) => setPromptSet(e.target.value)} disabled={running}>
            {sets.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name} ({s.prompts.length})
              </option>
            ))}
            <option value={CURRENT}>the prompt in the editor (1)</option>
          </select>
        </label>
        <button type="button" onClick={run} disabled={running || req === null}>
          {r ? 'Run atlas again' : 'Run atlas'}
        </button>
        {running && (
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        )}
        <progress aria-label="Atlas progress" max={progress?.total ?? 1} value={progress?.done ?? 0} hidden={!running} />
        <output aria-label="Atlas status" aria-live="polite" className="small">
          {running
            ? progress
              ? `${progress.done} of ${progress.total} sequences (${prompts.length} prompts + the probe) · ${seconds(progress.elapsedMs)} elapsed · about ${seconds(progress.etaMs)} left`
              : 'Starting…'
            : r
              ? `Done: ${r.prompts} prompts${r.cut ? ` (${r.cut} cut to ${r.settings['max_tokens']} tokens)` : ''} and the probe. Cached for these prompts and settings.`
              : cancelled
                ? 'Cancelled. Run atlas to start again.'
                : `Not run yet for these ${prompts.length} prompts and settings.`}
        </output>
      </div>
      <AtlasSettings error={settingsError} />
      {query.isError && (
        <p role="alert" className="error">
          The atlas failed: {query.error.message}
        </p>
      )}
      {r && (
        <>
          <p className="small">
            Sink rate (ε = {formatValue(r.sinkRate.epsilon)}): <strong>{r.sinkRate.rate.toFixed(1)} %</strong> of {r.sinkRate.total} prompt·layer·head · read
            back {formatBytes(r.bytes.readBack / r.bytes.sequences)} per sequence of {formatBytes(r.bytes.captured / r.bytes.sequences)} captured
          </p>
          <div className="toolbar" role="toolbar" aria-label="Atlas view and exports">
            <ScoreSelect label="Colour heads by" scores={scores} value={key} onChange={setMetric} />
            <button type="button" onClick={() => download(new Blob([atlasHeadsCsv(r)], { type: 'text/csv' }), `${stem('atlas-heads')}.csv`)}>
              Scores CSV
            </button>
            <button
              type="button"
              onClick={() => download(new Blob([`${JSON.stringify(atlasJson(r), null, 2)}\n`], { type: 'application/json' }), `${stem('atlas')}.json`)}
            >
              Atlas JSON
            </button>
            <button type="button" onClick={() => download(new Blob([mapSvg()], { type: 'image/svg+xml' }), `${stem(`atlas-${key}`)}.svg`)}>
              Atlas SVG
            </button>
            <button type="button" onClick={async () => download(await svgToPng(mapSvg()), `${stem(`atlas-${key}`)}.png`)}>
              Atlas PNG
            </button>
            <button type="button" onClick={() => download(new Blob([scatterSvg()], { type: 'image/svg+xml' }), `${stem('scatter')}.svg`)}>
              Scatter SVG
            </button>
            <button type="button" onClick={async () => download(await svgToPng(scatterSvg()), `${stem('scatter')}.png`)}>
              Scatter PNG
            </button>
          </div>
          <div className="atlas-row">
            <AtlasMap result={r} metric={key} label={scoreLabel(key)} scale={scale} threshold={threshold} />
            <HeadCard result={r} layer={cardHead.layer} head={cardHead.head} onOpen={openHeatmap} />
          </div>
          <div className="atlas-row">
            <figure className="scatter-figure" aria-label="Score scatter">
              <div className="toolbar">
                <ScoreSelect label="Horizontal" scores={scores} value={scatterX} onChange={(k) => setScatter('x', k)} />
                <ScoreSelect label="Vertical" scores={scores} value={scatterY} onChange={(k) => setScatter('y', k)} />
              </div>
              <AtlasScatter ref={scatterRef} result={r} x={scatterX} y={scatterY} />
              <figcaption className="small muted">Hover a point to preview its head, click to lock it.</figcaption>
            </figure>
            <div className="sink-tokens">
              <h3>Hidden-sink tokens over the set</h3>
              {r.hiddenSinkTokens.length === 0 ? (
                <p className="muted small">No key after the first is over the hidden-sink threshold.</p>
              ) : (
                <ul aria-label="Hidden-sink tokens over the set" className="token-list">
                  {r.hiddenSinkTokens.slice(0, 12).map((t) => (
                    <li key={t.token}>
                      <span className="mono">“{tokenLabel(t.token)}”</span> is a hidden sink in {t.heads} head{t.heads === 1 ? '' : 's'} ({t.hits} hits)
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
          <FindingsTable findings={r.findings} model={modelName} onOpen={openHeatmap} />
          <p className="muted small">Selected {headName(head.locked.layer, head.locked.head)}: rows and cells open its heatmap in the workbench above.</p>
        </>
      )}
    </section>
  );
}

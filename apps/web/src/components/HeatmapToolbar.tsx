/** The heatmap's settings (colour scale, scheme, fold) and exports (PNG at a chosen scale, SVG, CSV, JSON). */
import { useState } from 'react';
import { engine } from '../engine/client.js';
import type { RunRef } from '../engine/queries.js';
import type { ScaleMode, Scheme } from '../lib/colour.js';
import { canvasBlob, download, fileStem, matrixCsv, matrixJson } from '../lib/export.js';
import { headName } from '../lib/format.js';
import { useViewStore } from '../state/view-store.js';
import { drawHeatmap, type HeatFrame, heatmapSvg } from './heatmap-draw.js';

interface Props {
  run: RunRef;
  frame: HeatFrame | null;
  model: string;
  tokens: readonly string[];
  ids: readonly number[];
  layer: number;
  head: number;
  zoomed: boolean;
  onReset(): void;
}

export function HeatmapToolbar({ run, frame, model, tokens, ids, layer, head, zoomed, onReset }: Props) {
  const { scale, scheme, foldFirst, setScale, setScheme, setFoldFirst } = useViewStore();
  const [pngScale, setPngScale] = useState(2);
  const [error, setError] = useState<string | null>(null);
  const stem = fileStem(model, headName(layer, head));

  const exportMatrix = async (kind: 'csv' | 'json') => {
    setError(null);
    try {
      const T = run.run.tokens;
      const w = await engine().call('window', { runId: run.run.runId, layer, head, window: { q0: 0, q1: T, k0: 0, k1: T, stride: 1 } });
      const m = { model, layer, head, ids, tokens, values: w.values };
      download(new Blob([kind === 'csv' ? matrixCsv(m) : matrixJson(m)], { type: kind === 'csv' ? 'text/csv' : 'application/json' }), `${stem}.${kind}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const exportPng = async () => {
    if (!frame) return;
    const cv = document.createElement('canvas');
    cv.width = Math.round(frame.width * pngScale);
    cv.height = Math.round(frame.height * pngScale);
    const g = cv.getContext('2d')!;
    g.scale(pngScale, pngScale);
    drawHeatmap(g, { ...frame, cursor: null });
    download(await canvasBlob(cv), `${stem}@${pngScale}x.png`);
  };
  const exportSvg = () => {
    if (!frame) return;
    download(new Blob([heatmapSvg({ ...frame, cursor: null })], { type: 'image/svg+xml' }), `${stem}.svg`);
  };

  return (
    <div className="toolbar" role="toolbar" aria-label="Heatmap settings and exports">
      <label>
        Colour scale{' '}
        <select value={scale} onChange={(e) => setScale(e.target.value as ScaleMode)}>
          <option value="linear">linear</option>
          <option value="log">log</option>
          <option value="rank">rank</option>
        </select>
      </label>
      <label>
        Colours{' '}
        <select value={scheme} onChange={(e) => setScheme(e.target.value as Scheme)}>
          <option value="viridis">viridis</option>
          <option value="cividis">cividis</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={foldFirst} onChange={(e) => setFoldFirst(e.target.checked)} /> Fold first token
      </label>
      <button type="button" onClick={onReset} disabled={!zoomed}>
        Reset zoom
      </button>
      <span className="sep" />
      <label>
        PNG scale{' '}
        <select value={pngScale} onChange={(e) => setPngScale(Number(e.target.value))}>
          {[1, 2, 3, 4].map((s) => (
            <option key={s} value={s}>
              {s}×
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={exportPng} disabled={!frame}>
        Heatmap PNG
      </button>
      <button type="button" onClick={exportSvg} disabled={!frame}>
        Heatmap SVG
      </button>
      <button type="button" onClick={() => exportMatrix('csv')}>
        Matrix CSV
      </button>
      <button type="button" onClick={() => exportMatrix('json')}>
        Matrix JSON
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}

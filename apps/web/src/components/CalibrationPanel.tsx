/**
 * The calibration panel: ACT and ZeroTuning on chosen heads, applied live. Every change of a setting re-runs
 * the calibrated pass (the previous result stays drawn meanwhile); the selected head is shown before, after
 * and as the difference, with the predictions at the selected position before and after and, per head, how
 * much its attention changed.
 */
import { useEffect, useRef, useState } from 'react';
import type { CalibrationView, RankedPrediction } from '../engine/protocol.js';
import { useCalibration } from '../engine/queries.js';
import { drawMiniMap, type MiniMap, mapSize } from '../lib/calibration-draw.js';
import { lut } from '../lib/colour.js';
import { formatPercent, headName, tokenLabel } from '../lib/format.js';
import { useCalibrationStore } from '../state/calibration-store.js';
import { useViewStore } from '../state/view-store.js';

interface Props {
  model: string;
  ids: readonly number[];
  nLayers: number;
  nHeads: number;
}

function MapCanvas({ map, label }: { map: MiniMap; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { width, height } = mapSize(map.n);
  useEffect(() => {
    const g = ref.current?.getContext('2d');
    if (g) drawMiniMap(g, map);
  }, [map]);
  return (
    <figure className="calibration-map">
      <canvas ref={ref} width={width} height={height} role="img" aria-label={label} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function rankChange(p: RankedPrediction, i: number, after: boolean): string {
  const now = i + 1;
  const other = p.otherRank;
  if (!after) return `→ #${other}`;
  if (other === now) return '=';
  return other > now ? `↑${other - now} (was #${other})` : `↓${now - other} (was #${other})`;
}

function PredictionTable({ title, rows, after }: { title: string; rows: RankedPrediction[]; after: boolean }) {
  return (
    <table aria-label={title}>
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">token</th>
          <th scope="col">probability</th>
          <th scope="col">{after ? 'rank change' : 'rank after'}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((p, i) => (
          <tr key={p.id}>
            <td>{i + 1}</td>
            <td className="mono">“{tokenLabel(p.text, 16)}”</td>
            <td>{formatPercent(p.prob)}</td>
            <td>{rankChange(p, i, after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function maxOf(xs: Float32Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) m = Math.max(m, x);
  return m;
}

const indices = (n: number) => Array.from({ length: n }, (_, i) => i);

function ChangeGrid({ view, nLayers, nHeads }: { view: CalibrationView; nLayers: number; nHeads: number }) {
  const lockHead = useViewStore((s) => s.lockHead);
  const max = Math.max(1e-9, maxOf(view.headChange));
  const l = lut('viridis');
  return (
    <table className="change-grid" aria-label="Attention change per head (mean total variation per query row)">
      <caption>Change per head: mean total variation of a row, 0 … {max.toPrecision(2)} (viridis, brighter = more)</caption>
      <tbody>
        {indices(nLayers).map((layer) => (
          <tr key={`L${layer}`}>
            <th scope="row">L{layer}</th>
            {indices(nHeads).map((head) => {
              const v = view.headChange[layer * nHeads + head]!;
              const i = Math.round((v / max) * 255) * 3;
              return (
                <td key={`H${head}`}>
                  <button
                    type="button"
                    aria-label={`${headName(layer, head)} change ${v.toFixed(3)}`}
                    title={`${headName(layer, head)}: ${v.toFixed(3)}`}
                    style={{ background: `rgb(${l[i]},${l[i + 1]},${l[i + 2]})`, color: v / max > 0.6 ? '#000' : '#fff' }}
                    onClick={() => lockHead({ layer, head })}
                  >
                    {v >= 0.0005 ? v.toFixed(3).slice(1) : '0'}
                  </button>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CalibrationPanel({ model, ids, nLayers, nHeads }: Props) {
  const s = useCalibrationStore();
  const locked = useViewStore((v) => v.head.locked);
  const query = useViewStore((v) => v.query);
  const T = ids.length;
  const position = Math.min(T - 1, query ?? T - 1);
  const { layer, head } = locked;
  const req = { ids: [...ids], settings: { act: s.act, zeroTuning: s.zeroTuning }, layer, head, position, k: 5 };
  // Closed and off, the panel costs nothing: it asks the engine only when open or when a method is on.
  const [open, setOpen] = useState(false);
  const active = open || s.act.on || s.zeroTuning.on;
  const q = useCalibration(model, T > 0 && active ? req : null);
  const view = q.data;
  const name = headName(layer, head);
  const shownFor = view && view.tokens === T ? view : undefined;
  let maps: MiniMap[] = [];
  if (shownFor) {
    const top = Math.max(maxOf(shownFor.before), maxOf(shownFor.after));
    const diff = shownFor.after.map((v, i) => v - shownFor.before[i]!);
    const dmax = Math.max(1e-6, maxOf(diff.map(Math.abs)));
    maps = [
      { values: shownFor.before, n: T, kind: 'attention', max: top },
      { values: shownFor.after, n: T, kind: 'attention', max: top },
      { values: diff, n: T, kind: 'difference', max: dmax },
    ];
  }
  const actTauLabel = s.act.tauMode === 'relative' ? 'α (threshold α/N)' : 'τ';
  return (
    <section className="panel calibration" aria-label="Calibration">
      <details open={active} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          <h2>Calibration</h2>
        </summary>
        <div className="calibration-controls">
          <fieldset>
            <legend>ACT (scale hidden-sink columns by β)</legend>
            <label>
              <input type="checkbox" checked={s.act.on} onChange={(e) => s.setAct({ on: e.target.checked })} /> apply ACT
            </label>
            <label>
              heads{' '}
              <input
                type="text"
                aria-label="ACT heads"
                placeholder="layer.head,… or all"
                value={s.act.heads}
                onChange={(e) => s.setAct({ heads: e.target.value })}
              />
            </label>
            <button type="button" onClick={() => s.addHead('act', layer, head)}>
              Add {name}
            </button>
            <button type="button" disabled={!view?.hiddenSinkHeads} onClick={() => s.setAct({ heads: view?.hiddenSinkHeads ?? '', on: true })}>
              All heads with hidden sinks
            </button>
            <label>
              {actTauLabel}{' '}
              <input
                type="range"
                aria-label={`ACT ${s.act.tauMode === 'relative' ? 'α' : 'τ'}`}
                min={s.act.tauMode === 'relative' ? 0.5 : 0.01}
                max={s.act.tauMode === 'relative' ? 8 : 0.5}
                step={s.act.tauMode === 'relative' ? 0.25 : 0.01}
                value={s.act.tau}
                onChange={(e) => s.setAct({ tau: Number(e.target.value) })}
              />{' '}
              <output>{s.act.tau}</output>
            </label>
            <label>
              <input
                type="checkbox"
                checked={s.act.tauMode === 'relative'}
                onChange={(e) => s.setAct(e.target.checked ? { tauMode: 'relative', tau: 2 } : { tauMode: 'absolute', tau: 0.1 })}
              />{' '}
              relative threshold (α/N)
            </label>
            <label>
              β{' '}
              <input
                type="range"
                aria-label="ACT β"
                min={0}
                max={1}
                step={0.05}
                value={s.act.beta}
                onChange={(e) => s.setAct({ beta: Number(e.target.value) })}
              />{' '}
              <output>{s.act.beta}</output>
            </label>
          </fieldset>
          <fieldset>
            <legend>ZeroTuning (scale the first token's attention by γ)</legend>
            <label>
              <input type="checkbox" checked={s.zeroTuning.on} onChange={(e) => s.setZeroTuning({ on: e.target.checked })} /> apply ZeroTuning
            </label>
            <label>
              heads{' '}
              <input
                type="text"
                aria-label="ZeroTuning heads"
                placeholder="layer.head,… or all"
                value={s.zeroTuning.heads}
                onChange={(e) => s.setZeroTuning({ heads: e.target.value })}
              />
            </label>
            <button type="button" onClick={() => s.addHead('zeroTuning', layer, head)}>
              Add {name}
            </button>
            <label>
              γ{' '}
              <input
                type="range"
                aria-label="ZeroTuning γ"
                min={0.25}
                max={4}
                step={0.25}
                value={s.zeroTuning.gamma}
                onChange={(e) => s.setZeroTuning({ gamma: Number(e.target.value) })}
              />{' '}
              <output>{s.zeroTuning.gamma}</output>
            </label>
          </fieldset>
        </div>
        {q.isError && (
          <p role="alert" className="error">
            {q.error.message}
          </p>
        )}
        <p aria-live="polite" className="muted">
          {q.isFetching ? 'Calibrating…' : view ? `${view.interventions} interventions · calibrated pass ${view.ms.toFixed(0)} ms` : ''}
        </p>
        {shownFor && (
          <>
            <div className="calibration-maps">
              <MapCanvas map={maps[0]!} label={`Attention heatmap ${name} before`} />
              <MapCanvas map={maps[1]!} label={`Attention heatmap ${name} after`} />
              <MapCanvas map={maps[2]!} label={`Attention difference ${name} (after − before; orange less, purple more)`} />
            </div>
            <div className="calibration-predictions">
              <PredictionTable title={`Predictions after position ${position}, before`} rows={shownFor.predictionsBefore} after={false} />
              <PredictionTable title={`Predictions after position ${position}, after`} rows={shownFor.predictionsAfter} after={true} />
            </div>
            <ChangeGrid view={shownFor} nLayers={nLayers} nHeads={nHeads} />
          </>
        )}
      </details>
    </section>
  );
}

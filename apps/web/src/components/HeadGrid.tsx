/**
 * Every layer × head as a thumbnail framed in the colour of a per-head metric. Hover previews a head in
 * the other views, click locks it, arrow keys move the locked head (roving focus, role="grid").
 */
import { memo, useEffect, useMemo, useRef } from 'react';
import type { MetricName, RunSummary } from '../engine/protocol.js';
import { type HeadRef, useGridKeys } from '../hooks/grid-navigation.js';
import { fitScale } from '../lib/colour.js';
import { canvasBlob, download, fileStem } from '../lib/export.js';
import { formatValue, headName } from '../lib/format.js';
import { useViewStore } from '../state/view-store.js';
import { drawGrid, type GridFrame, gridSize, gridSvg, thumbPixels } from './grid-draw.js';

export const METRICS: Record<MetricName, string> = {
  entropy: 'mean entropy (nats)',
  firstMass: 'mass on the first token',
  maxColumn: 'max column importance',
};

const Thumb = memo(function Thumb({ thumbs, index, size }: { thumbs: Float32Array; index: number; size: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const g = ref.current?.getContext('2d');
    g?.putImageData(thumbPixels(thumbs, index, size), 0, 0);
  }, [thumbs, index, size]);
  return <canvas ref={ref} width={size} height={size} />;
});

export function HeadGrid({ run, model }: { run: RunSummary; model: string }) {
  const { head, metric, scheme, setMetric, previewHead, endPreview, lockHead } = useViewStore();
  const locked = head.locked;
  const dims = useMemo(() => ({ nLayers: run.nLayers, nHeads: run.nHeads }), [run.nLayers, run.nHeads]);
  const values = run.metrics[metric];
  const scale = useMemo(() => fitScale(values, 'linear', scheme), [values, scheme]);
  const cells = useRef(new Map<string, HTMLTableCellElement>());
  const layerIds = useMemo(() => Array.from({ length: run.nLayers }, (_, l) => l), [run.nLayers]);
  const headIds = useMemo(() => Array.from({ length: run.nHeads }, (_, h) => h), [run.nHeads]);
  const onKeyDown = useGridKeys(locked, dims, lockHead);
  const frame: GridFrame = {
    nLayers: run.nLayers,
    nHeads: run.nHeads,
    thumbs: run.thumbs,
    thumb: run.thumb,
    values,
    metricLabel: METRICS[metric],
    scale,
    selected: locked,
  };

  // Focus follows the locked head while the grid has focus (keyboard navigation).
  useEffect(() => {
    const el = cells.current.get(headName(locked.layer, locked.head));
    if (el?.closest('table')?.contains(document.activeElement)) el.focus();
  }, [locked]);

  const exportPng = async () => {
    const { width, height } = gridSize(frame);
    const cv = document.createElement('canvas');
    cv.width = width * 2;
    cv.height = height * 2;
    const g = cv.getContext('2d')!;
    g.scale(2, 2);
    drawGrid(g, frame);
    download(await canvasBlob(cv), `${fileStem(model, `grid-${metric}`)}.png`);
  };
  const exportSvg = () => download(new Blob([gridSvg(frame)], { type: 'image/svg+xml' }), `${fileStem(model, `grid-${metric}`)}.svg`);
  const v = values[locked.layer * run.nHeads + locked.head] ?? 0;

  return (
    <section className="panel grid-panel" aria-label="Head grid">
      <div className="toolbar" role="toolbar" aria-label="Grid settings and exports">
        <label>
          Colour heads by{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value as MetricName)}>
            {Object.entries(METRICS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={exportPng}>
          Grid PNG
        </button>
        <button type="button" onClick={exportSvg}>
          Grid SVG
        </button>
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the ARIA grid pattern (a table with role grid and focusable gridcells) */}
      <table role="grid" aria-label="Attention heads" className="head-grid" onKeyDown={onKeyDown}>
        <thead>
          <tr>
            <td className="grid-corner" aria-hidden="true" />
            {headIds.map((h) => (
              <th scope="col" key={h} className="grid-colhead">
                H{h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {layerIds.map((l) => (
            <tr key={l} onMouseLeave={endPreview}>
              <th scope="row" className="grid-rowhead">
                L{l}
              </th>
              {headIds.map((h) => {
                const i = l * run.nHeads + h;
                const name = headName(l, h);
                const isLocked = locked.layer === l && locked.head === h;
                const ref: HeadRef = { layer: l, head: h };
                return (
                  <td
                    key={h}
                    ref={(el) => {
                      if (el) cells.current.set(name, el);
                      else cells.current.delete(name);
                    }}
                    // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: gridcells of the ARIA grid pattern, with a roving tabindex
                    role="gridcell"
                    aria-label={name}
                    aria-selected={isLocked}
                    tabIndex={isLocked ? 0 : -1}
                    title={`${name}: ${METRICS[metric]} ${formatValue(values[i]!)}`}
                    className={`grid-cell${isLocked ? ' locked' : ''}${head.hover?.layer === l && head.hover.head === h ? ' hovered' : ''}`}
                    style={{ background: scale.css(values[i]!) }}
                    onMouseEnter={() => previewHead(ref)}
                    onClick={() => lockHead(ref)}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        lockHead(ref);
                      }
                    }}
                  >
                    <Thumb thumbs={run.thumbs} index={i} size={run.thumb} />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted" aria-live="polite">
        Selected {headName(locked.layer, locked.head)} · {METRICS[metric]} {formatValue(v)}
        {head.hover && ` · previewing ${headName(head.hover.layer, head.hover.head)}`}
      </p>
    </section>
  );
}

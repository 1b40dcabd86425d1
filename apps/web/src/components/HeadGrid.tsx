/**
 * Every layer × head as a thumbnail framed in the colour of a per-head metric. Hover previews a head in
 * the other views, click locks it, arrow keys move the locked head (roving focus, role="grid").
 */
import { memo, useEffect, useMemo, useRef } from 'react';
import type { MetricName, RunSummary } from '../engine/protocol.js';
import { fitScale } from '../lib/colour.js';
import { canvasBlob, download, fileStem } from '../lib/export.js';
import { formatValue, headName } from '../lib/format.js';
import { useViewStore } from '../state/view-store.js';
import { drawGrid, type GridFrame, gridSize, gridSvg, thumbPixels } from './grid-draw.js';
import { HeadTable } from './HeadTable.js';

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
  const { head, metric, scheme, setMetric } = useViewStore();
  const locked = head.locked;
  const values = run.metrics[metric];
  const scale = useMemo(() => fitScale(values, 'linear', scheme), [values, scheme]);
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
      <HeadTable
        label="Attention heads"
        className="head-grid"
        nLayers={run.nLayers}
        nHeads={run.nHeads}
        cell={(l, h) => {
          const i = l * run.nHeads + h;
          return {
            className: 'grid-cell',
            style: { background: scale.css(values[i]!) },
            title: `${headName(l, h)}: ${METRICS[metric]} ${formatValue(values[i]!)}`,
            children: <Thumb thumbs={run.thumbs} index={i} size={run.thumb} />,
          };
        }}
      />
      <p className="muted" aria-live="polite">
        Selected {headName(locked.layer, locked.head)} · {METRICS[metric]} {formatValue(v)}
        {head.hover && ` · previewing ${headName(head.hover.layer, head.hover.head)}`}
      </p>
    </section>
  );
}

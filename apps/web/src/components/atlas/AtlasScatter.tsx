/**
 * Two scores of every head against each other (HeadVis-style): hover a point to preview that head in the
 * head card, click to lock it. From the keyboard: arrows step through the heads in x (Left/Right) or
 * y (Down/Up) order as a preview, Enter or Space locks, Escape ends the preview. The shown head is drawn
 * larger in vermillion (Okabe–Ito), the others in blue.
 */
import type { AtlasResult } from '@headscope/analysis';
import { scaleLinear } from 'd3';
import { forwardRef } from 'react';
import { domainOf, scatterStep, scoreLabel } from '../../lib/atlas-view.js';
import { HEAD_COLOURS } from '../../lib/colour.js';
import { formatValue, headName } from '../../lib/format.js';
import { useViewStore } from '../../state/view-store.js';

const W = 380;
const H = 300;
const M = { left: 46, right: 12, top: 12, bottom: 40 };

export const AtlasScatter = forwardRef<SVGSVGElement, { result: AtlasResult; x: string; y: string }>(function AtlasScatter({ result: r, x, y }, ref) {
  const head = useViewStore((s) => s.head);
  const previewHead = useViewStore((s) => s.previewHead);
  const endPreview = useViewStore((s) => s.endPreview);
  const lockHead = useViewStore((s) => s.lockHead);
  const sx = scaleLinear()
    .domain(domainOf(r, x))
    .range([M.left, W - M.right])
    .nice();
  const sy = scaleLinear()
    .domain(domainOf(r, y))
    .range([H - M.bottom, M.top])
    .nice();
  const shown = head.hover ?? head.locked;
  const points = r.table.filter((row) => Number.isFinite(row.scores[x]) && Number.isFinite(row.scores[y]));
  // The shown head last, so it is drawn on top.
  const isShown = (l: number, h: number) => shown.layer === l && shown.head === h;
  points.sort((a, b) => Number(isShown(a.layer, a.head)) - Number(isShown(b.layer, b.head)));
  return (
    <svg
      ref={ref}
      xmlns="http://www.w3.org/2000/svg"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="application"
      aria-roledescription="scatter plot"
      aria-label={`Scatter of ${scoreLabel(x)} against ${scoreLabel(y)} over ${points.length} heads; shown ${headName(shown.layer, shown.head)}. Arrow keys step between heads, Enter locks.`}
      className="atlas-scatter"
      fontFamily="sans-serif"
      fontSize={10}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: an application-role plot that takes arrow keys, like the heatmap canvas
      tabIndex={0}
      onMouseLeave={endPreview}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') lockHead(shown);
        else if (e.key === 'Escape') endPreview();
        else {
          const next = scatterStep(
            points.map((p) => ({ layer: p.layer, head: p.head, x: p.scores[x]!, y: p.scores[y]! })),
            shown,
            e.key,
          );
          if (!next) return;
          previewHead(next);
        }
        e.preventDefault();
      }}
    >
      <rect width={W} height={H} fill="#fff" />
      {sx.ticks(5).map((t) => (
        <g key={`x${t}`}>
          <line x1={sx(t)} x2={sx(t)} y1={M.top} y2={H - M.bottom} stroke="#e3e3e3" />
          <text x={sx(t)} y={H - M.bottom + 14} textAnchor="middle">
            {formatValue(t)}
          </text>
        </g>
      ))}
      {sy.ticks(5).map((t) => (
        <g key={`y${t}`}>
          <line x1={M.left} x2={W - M.right} y1={sy(t)} y2={sy(t)} stroke="#e3e3e3" />
          <text x={M.left - 4} y={sy(t) + 3} textAnchor="end">
            {formatValue(t)}
          </text>
        </g>
      ))}
      <rect x={M.left} y={M.top} width={W - M.left - M.right} height={H - M.top - M.bottom} fill="none" stroke="#555" />
      <text x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle" fontWeight="bold">
        {scoreLabel(x)}
      </text>
      <text transform={`translate(12, ${(M.top + H - M.bottom) / 2}) rotate(-90)`} textAnchor="middle" fontWeight="bold">
        {scoreLabel(y)}
      </text>
      {points.map((row) => {
        const on = isShown(row.layer, row.head);
        const vx = row.scores[x]!;
        const vy = row.scores[y]!;
        return (
          // biome-ignore lint/a11y/noStaticElementInteractions: pointer preview of a point; the plot's arrow keys are the keyboard route
          <g
            key={headName(row.layer, row.head)}
            onMouseEnter={() => previewHead({ layer: row.layer, head: row.head })}
            onClick={() => lockHead({ layer: row.layer, head: row.head })}
            style={{ cursor: 'pointer' }}
          >
            <circle
              cx={sx(vx)}
              cy={sy(vy)}
              r={on ? 6 : 4}
              fill={on ? HEAD_COLOURS[1] : HEAD_COLOURS[0]}
              fillOpacity={on ? 1 : 0.7}
              stroke="#fff"
              strokeWidth={on ? 1.5 : 0.5}
            >
              <title>{`${headName(row.layer, row.head)}: ${formatValue(vx)}, ${formatValue(vy)}`}</title>
            </circle>
            {on && (
              <text x={sx(vx) + 8} y={sy(vy) - 6} fontWeight="bold">
                {headName(row.layer, row.head)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
});

/**
 * The layers × heads map of the atlas, coloured by the chosen score, each cell's value written in it and
 * heads over the detector's threshold outlined; a legend below. Hover previews a head, click or Enter
 * locks it (the workbench shows the same head), arrow keys move the locked head.
 */
import type { AtlasResult } from '@headscope/analysis';
import { formatValue, headName } from '../../lib/format.js';
import { HeadTable } from '../HeadTable.js';
import { type AtlasScale, LEGEND, legendSvgBody } from './atlas-scale.js';

interface Props {
  result: AtlasResult;
  metric: string;
  label: string;
  scale: AtlasScale;
  threshold: number | undefined;
}

export function AtlasMap({ result: r, metric, label, scale, threshold }: Props) {
  return (
    <div className="atlas-map">
      <HeadTable
        label="Head atlas map"
        className="atlas-grid"
        nLayers={r.layers}
        nHeads={r.heads}
        cell={(l, h) => {
          const v = r.table[l * r.heads + h]?.scores[metric] ?? Number.NaN;
          const over = threshold !== undefined && v > threshold;
          return {
            className: `atlas-cell${over ? ' over' : ''}`,
            style: { background: scale.css(v), color: scale.ink(v) },
            title: `${headName(l, h)}: ${label} ${formatValue(v)}`,
            description: `${label} ${formatValue(v)}${over ? ', over the threshold' : ''}`,
            value: v,
            children: Number.isFinite(v) ? v.toFixed(2) : '–',
          };
        }}
      />
      <svg
        className="atlas-legend"
        width={LEGEND.width}
        height={LEGEND.height}
        role="img"
        aria-label={`Legend: ${label}, ${formatValue(scale.domain[0])} to ${formatValue(scale.domain[1])}${threshold === undefined ? '' : `, threshold ${formatValue(threshold)}`}`}
        // biome-ignore lint/security/noDangerouslySetInnerHtml: our own SVG markup (escaped labels), shared with the SVG export
        dangerouslySetInnerHTML={{ __html: legendSvgBody(scale, label, threshold, 'atlas-legend-screen') }}
      />
      <p className="muted small">Outlined: heads over the threshold. Colour-blind-safe viridis scale.</p>
    </div>
  );
}

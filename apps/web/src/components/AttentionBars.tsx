/** A query's attention over every key it sees, one bar group per key and one colour per head (d3 scales and axis ticks). */
import { scaleBand, scaleLinear } from 'd3';
import type { RunRef } from '../engine/queries.js';
import { useRows } from '../engine/queries.js';
import type { HeadRef } from '../hooks/grid-navigation.js';
import { HEAD_COLOURS } from '../lib/colour.js';
import { formatValue, headName, tokenLabel } from '../lib/format.js';

const W = 420;
const H = 200;
const M = { left: 36, right: 8, top: 10, bottom: 60 };

export function AttentionBars({ run, heads, query, tokens }: { run: RunRef; heads: readonly HeadRef[]; query: number; tokens: readonly string[] }) {
  const rows = useRows(run, heads, query);
  const keys = Array.from({ length: query + 1 }, (_, k) => k);
  const x = scaleBand<number>()
    .domain(keys)
    .range([M.left, W - M.right])
    .paddingInner(keys.length > 60 ? 0 : 0.15);
  let max = 0;
  for (const r of rows) for (const v of r.data ?? []) max = Math.max(max, v);
  const y = scaleLinear()
    .domain([0, max > 0 ? max : 1])
    .nice()
    .range([H - M.bottom, M.top]);
  const sub = scaleBand<number>()
    .domain(heads.map((_, i) => i))
    .range([0, x.bandwidth()]);
  const labelled = x.bandwidth() >= 9 ? keys : keys.filter((k) => k % Math.ceil(keys.length / 20) === 0);
  return (
    <svg width={W} height={H} role="img" aria-label={`Attention of query ${query} over its keys`} className="bars">
      {y.ticks(4).map((t) => (
        <g key={t}>
          <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} stroke="#eee" />
          <text x={M.left - 4} y={y(t)} textAnchor="end" dominantBaseline="middle" fontSize={10}>
            {t}
          </text>
        </g>
      ))}
      {rows.map((r, hi) => {
        const name = headName(heads[hi]!.layer, heads[hi]!.head);
        return keys.map((k) => {
          const v = r.data?.[k];
          if (v === undefined) return null;
          return (
            <rect
              key={`${name}-${k}`}
              x={(x(k) ?? 0) + (sub(hi) ?? 0)}
              y={y(v)}
              width={Math.max(0.5, sub.bandwidth())}
              height={y(0) - y(v)}
              fill={HEAD_COLOURS[hi]}
            >
              <title>
                {name}: key {k} “{tokens[k]}” {formatValue(v)}
              </title>
            </rect>
          );
        });
      })}
      {labelled.map((k) => (
        <text key={k} transform={`translate(${(x(k) ?? 0) + x.bandwidth() / 2},${H - M.bottom + 4}) rotate(60)`} fontSize={10}>
          {k} {tokenLabel(tokens[k] ?? '', 8)}
        </text>
      ))}
    </svg>
  );
}

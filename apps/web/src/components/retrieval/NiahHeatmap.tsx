/**
 * NIAH accuracy over (needle depth × context length), one cell per pair, as an ARIA grid: arrow keys move
 * the focused cell, Enter or a click views its tests. Colours: viridis over 0–100 % with a legend.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useGridKeys } from '../../hooks/grid-navigation.js';
import { cellPercent, cellRgb, cellText, css, type NiahGrid, rampRgb, textColour } from '../../lib/retrieval-view.js';

interface Props {
  grid: NiahGrid;
  cell: { d: number; l: number };
  onFocusCell: (cell: { d: number; l: number }) => void;
  onView: (cell: { d: number; l: number }) => void;
}

function Legend() {
  const stops = Array.from({ length: 11 }, (_, i) => `${css(rampRgb(i / 10))} ${i * 10}%`).join(', ');
  return (
    <figure className="niah-legend" aria-label="Colour legend: accuracy 0 % (dark purple) to 100 % (yellow), viridis; grey = not run yet">
      <div className="niah-legend-ramp" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <figcaption>
        <span>0%</span>
        <span>50%</span>
        <span>100%</span>
      </figcaption>
      <span className="niah-legend-pending">grey: not run yet</span>
    </figure>
  );
}

export function NiahHeatmap({ grid, cell, onFocusCell, onView }: Props) {
  const dims = useMemo(() => ({ nLayers: grid.depths.length, nHeads: grid.lengths.length }), [grid.depths.length, grid.lengths.length]);
  const sel = useMemo(() => ({ layer: cell.d, head: cell.l }), [cell.d, cell.l]);
  const onKeyDown = useGridKeys(sel, dims, (next) => onFocusCell({ d: next.layer, l: next.head }));
  const refs = useRef(new Map<string, HTMLTableCellElement>());

  // Focus follows the selected cell while the grid has focus (keyboard navigation).
  useEffect(() => {
    const el = refs.current.get(`${cell.d}:${cell.l}`);
    if (el?.closest('table')?.contains(document.activeElement)) el.focus();
  }, [cell]);

  return (
    <div className="niah">
      <p className="muted">NIAH accuracy: needle depth (rows) × context length in tokens (columns). Arrow keys move, Enter views a test.</p>
      {/* biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the ARIA grid pattern (a table with role grid and focusable gridcells) */}
      <table role="grid" aria-label="NIAH accuracy" className="niah-grid" onKeyDown={onKeyDown}>
        <thead>
          <tr>
            <th scope="col">depth \ length</th>
            {grid.lengths.map((len) => (
              <th scope="col" key={len}>
                {len}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.cells.map((row, d) => (
            <tr key={grid.depths[d]}>
              <th scope="row">{grid.depths[d]}%</th>
              {row.map((c, l) => {
                const rgb = cellRgb(c);
                const selected = cell.d === d && cell.l === l;
                const pct = cellPercent(c);
                return (
                  <td
                    key={c.length}
                    ref={(el) => {
                      if (el) refs.current.set(`${d}:${l}`, el);
                      else refs.current.delete(`${d}:${l}`);
                    }}
                    // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: gridcells of the ARIA grid pattern, with a roving tabindex
                    role="gridcell"
                    tabIndex={selected ? 0 : -1}
                    aria-selected={selected}
                    aria-label={`length ${c.length}, depth ${c.depth}%: ${c.tests ? `${c.retrieved} of ${c.tests} retrieved, ${pct}%` : 'not run yet'}`}
                    data-length={c.length}
                    data-depth={c.depth}
                    data-tests={c.tests}
                    data-retrieved={c.retrieved}
                    data-percent={pct ?? ''}
                    className={`niah-cell${selected ? ' selected' : ''}`}
                    style={{ background: css(rgb), color: textColour(rgb) }}
                    onClick={() => {
                      onFocusCell({ d, l });
                      onView({ d, l });
                    }}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        onView({ d, l });
                      }
                    }}
                  >
                    {cellText(c)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <Legend />
    </div>
  );
}

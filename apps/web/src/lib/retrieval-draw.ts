/**
 * The NIAH heatmap as a picture (the PNG export): the same cells, colours and texts as the on-screen
 * grid (retrieval-view.ts), axis labels and a legend. Geometry is exported so that a test can read the
 * colour back at each cell's centre.
 */
import { cellRgb, cellText, css, type NiahGrid, rampRgb, textColour } from './retrieval-view.js';

export const NIAH_CELL = { width: 56, height: 26 };
const LEFT = 84;
const TOP = 52;
/** Wide enough for the title. */
const MIN_WIDTH = 520;
const BOTTOM = 24;
const LEGEND = 90;

export function niahSize(grid: NiahGrid): { width: number; height: number } {
  return { width: Math.max(MIN_WIDTH, LEFT + grid.lengths.length * NIAH_CELL.width + LEGEND), height: TOP + contentHeight(grid) + BOTTOM };
}

/** The cells or the legend (ramp + the pending swatch), whichever is taller. */
function contentHeight(grid: NiahGrid): number {
  return Math.max(grid.depths.length * NIAH_CELL.height, legendHeight(grid) + 28);
}

function legendHeight(grid: NiahGrid): number {
  return Math.max(60, grid.depths.length * NIAH_CELL.height);
}

/** Centre of cell (depth row d, length column l) in picture pixels (before any device-pixel scaling). */
export function niahCellCentre(d: number, l: number): { x: number; y: number } {
  return { x: LEFT + (l + 0.5) * NIAH_CELL.width, y: TOP + (d + 0.5) * NIAH_CELL.height };
}

export function drawNiah(g: CanvasRenderingContext2D, grid: NiahGrid, title: string): void {
  const { width, height } = niahSize(grid);
  const { width: cw, height: ch } = NIAH_CELL;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#000';
  g.font = 'bold 13px sans-serif';
  g.textBaseline = 'middle';
  g.textAlign = 'left';
  g.fillText(title, 8, 14);
  g.font = '12px sans-serif';
  g.fillText('depth \\ length', 8, TOP - 10);
  grid.cells.forEach((row, d) => {
    g.fillStyle = '#000';
    g.textAlign = 'right';
    g.fillText(`${grid.depths[d]}%`, LEFT - 6, TOP + (d + 0.5) * ch);
    row.forEach((c, l) => {
      const rgb = cellRgb(c);
      g.fillStyle = css(rgb);
      g.fillRect(LEFT + l * cw, TOP + d * ch, cw, ch);
      g.fillStyle = textColour(rgb);
      g.textAlign = 'center';
      g.fillText(cellText(c), LEFT + (l + 0.5) * cw, TOP + (d + 0.5) * ch);
    });
  });
  g.fillStyle = '#000';
  g.textAlign = 'center';
  grid.lengths.forEach((len, l) => {
    g.fillText(String(len), LEFT + (l + 0.5) * cw, TOP - 10);
  });
  g.textAlign = 'left';
  g.fillText('rows: needle depth; columns: context length (tokens)', 8, TOP + contentHeight(grid) + 12);
  // Legend: the ramp from 0 % (bottom) to 100 % (top), ticks every 25 %.
  const x = LEFT + grid.lengths.length * cw + 16;
  const h = legendHeight(grid);
  for (let i = 0; i < h; i++) {
    g.fillStyle = css(rampRgb(1 - i / (h - 1)));
    g.fillRect(x, TOP + i, 14, 1);
  }
  g.fillStyle = '#000';
  g.textAlign = 'left';
  for (const p of [0, 25, 50, 75, 100]) g.fillText(`${p}%`, x + 20, TOP + (1 - p / 100) * (h - 1));
  g.fillStyle = css([221, 221, 221]);
  g.fillRect(x, TOP + h + 8, 14, 12);
  g.fillStyle = '#000';
  g.fillText('not run', x + 20, TOP + h + 14);
}

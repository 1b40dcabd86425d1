/** Arrow-key movement over the layer × head grid: ←/→ heads, ↑/↓ layers, Home/End and PageUp/PageDown to the edges. */
import { type KeyboardEvent, useCallback } from 'react';

export interface HeadRef {
  layer: number;
  head: number;
}

export interface GridDims {
  nLayers: number;
  nHeads: number;
}

/** The head a key moves to, or null when the key is not a grid move. Never leaves the grid. */
export function moveHead(sel: HeadRef, key: string, dims: GridDims): HeadRef | null {
  const clamp = (l: number, h: number): HeadRef => ({
    layer: Math.min(dims.nLayers - 1, Math.max(0, l)),
    head: Math.min(dims.nHeads - 1, Math.max(0, h)),
  });
  switch (key) {
    case 'ArrowLeft':
      return clamp(sel.layer, sel.head - 1);
    case 'ArrowRight':
      return clamp(sel.layer, sel.head + 1);
    case 'ArrowUp':
      return clamp(sel.layer - 1, sel.head);
    case 'ArrowDown':
      return clamp(sel.layer + 1, sel.head);
    case 'Home':
      return clamp(sel.layer, 0);
    case 'End':
      return clamp(sel.layer, dims.nHeads - 1);
    case 'PageUp':
      return clamp(0, sel.head);
    case 'PageDown':
      return clamp(dims.nLayers - 1, sel.head);
    default:
      return null;
  }
}

/** A keydown handler for the grid: moves the selection and keeps the page from scrolling. */
export function useGridKeys(sel: HeadRef, dims: GridDims, onMove: (next: HeadRef) => void): (e: KeyboardEvent) => void {
  return useCallback(
    (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const next = moveHead(sel, e.key, dims);
      if (!next) return;
      e.preventDefault();
      onMove(next);
    },
    [sel, dims, onMove],
  );
}

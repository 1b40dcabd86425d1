/** What the views show: the selected head (hover preview / click lock), the selected query position, and display settings. */
import { create } from 'zustand';
import type { MetricName } from '../engine/protocol.js';
import type { HeadRef } from '../hooks/grid-navigation.js';
import { type HoverLock, hoverLock } from '../hooks/hover-lock.js';
import type { ScaleMode, Scheme } from '../lib/colour.js';
import type { Viewport } from '../lib/viewport.js';

export interface ViewState {
  head: HoverLock<HeadRef>;
  /** The query position the token view and the predictions use; null: the last token. */
  query: number | null;
  /** Extra heads drawn in the token view beside the shown one. */
  compare: HeadRef[];
  metric: MetricName;
  scale: ScaleMode;
  scheme: Scheme;
  foldFirst: boolean;
  /** The heatmap's zoom window (matrix coordinates); null: the whole matrix. Saved with the session. */
  zoom: Viewport | null;
  previewHead(h: HeadRef): void;
  endPreview(): void;
  lockHead(h: HeadRef): void;
  setQuery(q: number | null): void;
  toggleCompare(h: HeadRef): void;
  setMetric(m: MetricName): void;
  setScale(s: ScaleMode): void;
  setScheme(s: Scheme): void;
  setFoldFirst(f: boolean): void;
  setZoom(z: Viewport | null): void;
  /** Keeps the selection inside a model of these dimensions. */
  fit(nLayers: number, nHeads: number): void;
}

const same = (a: HeadRef, b: HeadRef) => a.layer === b.layer && a.head === b.head;

export const useViewStore = create<ViewState>()((set) => ({
  head: { locked: { layer: 0, head: 0 }, hover: null },
  query: null,
  compare: [],
  metric: 'firstMass',
  scale: 'linear',
  scheme: 'viridis',
  foldFirst: false,
  zoom: null,
  previewHead: (h) => set((s) => ({ head: hoverLock(s.head, { type: 'enter', item: h }) })),
  endPreview: () => set((s) => ({ head: hoverLock(s.head, { type: 'leave' }) })),
  lockHead: (h) => set((s) => ({ head: hoverLock(s.head, { type: 'lock', item: h }) })),
  setQuery: (query) => set({ query }),
  toggleCompare: (h) => set((s) => ({ compare: s.compare.some((c) => same(c, h)) ? s.compare.filter((c) => !same(c, h)) : [...s.compare, h].slice(-3) })),
  setMetric: (metric) => set({ metric }),
  setScale: (scale) => set({ scale }),
  setScheme: (scheme) => set({ scheme }),
  setFoldFirst: (foldFirst) => set({ foldFirst }),
  setZoom: (zoom) => set({ zoom }),
  fit: (nLayers, nHeads) =>
    set((s) => {
      const inside = (h: HeadRef) => h.layer < nLayers && h.head < nHeads;
      const locked = inside(s.head.locked) ? s.head.locked : { layer: 0, head: 0 };
      return { head: { locked, hover: null }, compare: s.compare.filter(inside), query: null };
    }),
}));

/**
 * One head's query × key matrix on a canvas: token labels, hover readout with the exact value, wheel/drag
 * or keyboard zoom and pan, linear/log/rank colour, an optional folded first-token column. Only the
 * visible window is read back from the worker (max-pooled when more cells are visible than pixels).
 */
import { type KeyboardEvent, type PointerEvent, useEffect, useMemo, useRef, useState } from 'react';
import type { RunRef } from '../engine/queries.js';
import { useValue, useWindow } from '../engine/queries.js';
import { shown } from '../hooks/hover-lock.js';
import { fitScale } from '../lib/colour.js';
import { formatValue, headName } from '../lib/format.js';
import { type Bounds, clampView, fullView, isFull, panBy, type Viewport, windowFor, zoomAt } from '../lib/viewport.js';
import { useViewStore } from '../state/view-store.js';
import { HeatmapToolbar } from './HeatmapToolbar.js';
import { cellAt, drawHeatmap, type HeatFrame, heatLayout, maskedCell, maskedPair, valueAt } from './heatmap-draw.js';

let firstDrawn = false;

export function Heatmap({ run, tokens, ids, model }: { run: RunRef; tokens: readonly string[]; ids: readonly number[]; model: string }) {
  const { layer, head } = useViewStore((s) => shown(s.head));
  const { scale: mode, scheme, foldFirst, query, setQuery } = useViewStore();
  const T = run.run.tokens;
  const bounds: Bounds = useMemo(() => ({ kMin: foldFirst && T > 1 ? 1 : 0, T }), [foldFirst, T]);
  // The zoom lives in the view store (sessions save and restore it); a restored one is clamped to this matrix.
  const [view, setView] = useState<Viewport>(() => {
    const z = useViewStore.getState().zoom;
    return z ? clampView(z, bounds) : fullView(bounds);
  });
  const [cursor, setCursor] = useState<{ q: number; k: number } | null>(null);
  const [width, setWidth] = useState(620);
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const drag = useRef<{ x: number; y: number; view: Viewport; moved: boolean } | null>(null);
  const shownBounds = useRef(bounds);

  useEffect(() => {
    // A new matrix (another prompt length, or folding) starts unzoomed; the first mount keeps a restored zoom.
    if (shownBounds.current === bounds) return;
    shownBounds.current = bounds;
    setView(fullView(bounds));
    setCursor(null);
  }, [bounds]);

  useEffect(() => {
    useViewStore.getState().setZoom(isFull(view, bounds) ? null : { ...view });
  }, [view, bounds]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => setWidth(Math.max(360, Math.min(900, Math.floor(e!.contentRect.width)))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const req = useMemo(() => windowFor(view, bounds), [view, bounds]);
  const win = useWindow(run, layer, head, req);
  const firstReq = bounds.kMin === 1 ? { q0: req.q0, q1: req.q1, k0: 0, k1: 1, stride: req.stride } : null;
  const first = useWindow(run, layer, head, firstReq);
  const title = headName(layer, head);
  // Sliding-window layers (Gemma, Mistral-style configs) mask keys far behind the query: drawn as masked, not as small.
  const slidingWindow = run.run.windows?.[layer] ?? null;
  const height = width;

  const frame: HeatFrame | null = useMemo(() => {
    const w = win.data;
    if (!w) return null;
    const excludeFirst = bounds.kMin === 1;
    const scale = fitScale(w.values, mode, scheme, (i) => {
      const r = Math.floor(i / w.cols);
      const c = i % w.cols;
      return !maskedCell(w, r, c, slidingWindow) && !(excludeFirst && w.k0 + c * w.stride === 0);
    });
    return { title, width, height, T, view, fold: bounds.kMin === 1, tokens, win: w, first: first.data ?? null, scale, window: slidingWindow, cursor, query };
  }, [win.data, first.data, mode, scheme, title, width, height, T, view, bounds, tokens, cursor, query, slidingWindow]);

  useEffect(() => {
    const cv = canvas.current;
    if (!cv || !frame) return;
    const dpr = window.devicePixelRatio || 1;
    cv.width = Math.round(frame.width * dpr);
    cv.height = Math.round(frame.height * dpr);
    const g = cv.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const L = drawHeatmap(g, frame);
    cv.dataset['plot'] = [L.plot.x0, L.plot.y0, L.plot.x1, L.plot.y1].join(',');
    cv.dataset['view'] = [view.x0, view.x1, view.y0, view.y1].join(',');
    cv.dataset['strip'] = L.strip ? [L.strip.x0, L.strip.x1].join(',') : '';
    cv.dataset['head'] = frame.title;
    if (!firstDrawn) {
      firstDrawn = true;
      performance.mark('headscope:first-heatmap');
    }
  }, [frame, view]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const cv = canvas.current;
    if (!cv || !frame) return;
    const onWheel = (e: WheelEvent) => {
      const L = heatLayout(frame);
      const r = cv.getBoundingClientRect();
      const x = e.clientX - r.left;
      const y = e.clientY - r.top;
      if (x < L.plot.x0 || x > L.plot.x1 || y < L.plot.y0 || y > L.plot.y1) return;
      e.preventDefault();
      setView((v) => zoomAt(v, Math.exp(-e.deltaY * 0.002), L.xs.invert(x), L.ys.invert(y), bounds));
    };
    cv.addEventListener('wheel', onWheel, { passive: false });
    return () => cv.removeEventListener('wheel', onWheel);
  }, [frame, bounds]);

  const local = (e: PointerEvent) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    const p = local(e);
    drag.current = { ...p, view, moved: false };
    e.currentTarget.setPointerCapture?.(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!frame) return;
    const p = local(e);
    const L = heatLayout(frame);
    const d = drag.current;
    if (d && (d.moved || Math.hypot(p.x - d.x, p.y - d.y) > 4)) {
      d.moved = true;
      const cw = (L.plot.x1 - L.plot.x0) / (d.view.x1 - d.view.x0);
      const ch = (L.plot.y1 - L.plot.y0) / (d.view.y1 - d.view.y0);
      setView(panBy(d.view, -(p.x - d.x) / cw, -(p.y - d.y) / ch, bounds));
      return;
    }
    setCursor(cellAt(frame, L, p.x, p.y));
  };
  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!frame || d?.moved) return;
    const p = local(e);
    const c = cellAt(frame, heatLayout(frame), p.x, p.y);
    if (c) setQuery(c.q);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const m = moves[e.key];
    const c = cursor ?? { q: query ?? T - 1, k: bounds.kMin };
    if (m && e.shiftKey) {
      setView((v) => panBy(v, m[0] * Math.max(1, (v.x1 - v.x0) / 8), m[1] * Math.max(1, (v.y1 - v.y0) / 8), bounds));
    } else if (m) {
      const next = { q: Math.min(T - 1, Math.max(0, c.q + m[1])), k: Math.min(T - 1, Math.max(0, c.k + m[0])) };
      setCursor(next);
      // Keep the cursor on screen.
      setView((v) =>
        panBy(
          v,
          next.k < v.x0 ? next.k - v.x0 : next.k + 1 > v.x1 ? next.k + 1 - v.x1 : 0,
          next.q < v.y0 ? next.q - v.y0 : next.q + 1 > v.y1 ? next.q + 1 - v.y1 : 0,
          bounds,
        ),
      );
    } else if (e.key === '+' || e.key === '=') setView((v) => zoomAt(v, 2, c.k + 0.5, c.q + 0.5, bounds));
    else if (e.key === '-') setView((v) => zoomAt(v, 0.5, c.k + 0.5, c.q + 0.5, bounds));
    else if (e.key === '0') setView(fullView(bounds));
    else if (e.key === 'Enter') setQuery(c.q);
    else if (e.key === 'Escape') setCursor(null);
    else return;
    e.preventDefault();
  };

  const local_ = cursor && frame ? valueAt(frame, cursor.q, cursor.k) : null;
  const remote = useValue(run, layer, head, cursor && local_ === null ? cursor : null);
  const value = local_ ?? (cursor ? remote.data : undefined);
  const label = (i: number) => `${i} “${tokens[i] ?? ''}”`;

  return (
    <section className="panel heatmap" aria-label="Heatmap">
      <HeatmapToolbar
        run={run}
        frame={frame}
        model={model}
        tokens={tokens}
        ids={ids}
        layer={layer}
        head={head}
        zoomed={!isFull(view, bounds)}
        onReset={() => setView(fullView(bounds))}
      />
      <div ref={wrap} className="heatmap-canvas">
        <canvas
          ref={canvas}
          role="img"
          aria-label={`Attention heatmap ${title}`}
          aria-describedby="heatmap-help heatmap-readout"
          tabIndex={0}
          style={{ width, height }}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerLeave={() => {
            drag.current = null;
            setCursor(null);
          }}
          onKeyDown={onKeyDown}
        />
      </div>
      <output id="heatmap-readout" className="readout" aria-label="Heatmap readout" aria-live="polite">
        {cursor && value !== undefined
          ? `Query ${label(cursor.q)} → key ${label(cursor.k)}: ${formatValue(value)}${maskedPair(cursor.q, cursor.k, slidingWindow) ? ` (masked: ${cursor.k > cursor.q ? 'after the query' : `outside the sliding window of ${slidingWindow}`})` : ''}`
          : win.isPending
            ? 'Reading the attention map…'
            : ' '}
        {req.stride > 1 && (
          <span className="muted">
            {' '}
            (zoomed out: each cell shows the max of {req.stride}×{req.stride} values; zoom in for single cells)
          </span>
        )}
      </output>
      <p id="heatmap-help" className="help">
        Hover for values, click a row to select that query. Wheel or +/− to zoom, drag or Shift+arrows to pan, 0 to reset; arrows move the cursor.
      </p>
    </section>
  );
}

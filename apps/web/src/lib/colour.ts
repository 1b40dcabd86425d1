/**
 * Colour scales for attention values: linear, log and rank, over the colour-blind-safe viridis and
 * cividis ramps (d3). A scale maps a value to t ∈ [0, 1] and t to an RGB triple from a 256-entry table.
 */
import { bisectLeft, color, interpolateCividis, interpolateViridis, scaleLinear, scaleLog } from 'd3';

/** Okabe–Ito colours for heads drawn together: distinguishable with the common colour-vision deficiencies. */
export const HEAD_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7'];

export type ScaleMode = 'linear' | 'log' | 'rank';
export type Scheme = 'viridis' | 'cividis';

const SCHEMES: Record<Scheme, (t: number) => string> = { viridis: interpolateViridis, cividis: interpolateCividis };
const luts = new Map<Scheme, Uint8ClampedArray>();

/** 256 RGB triples of a scheme. */
export function lut(scheme: Scheme): Uint8ClampedArray {
  let l = luts.get(scheme);
  if (!l) {
    l = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = color(SCHEMES[scheme](i / 255))?.rgb();
      l[i * 3] = c?.r ?? 0;
      l[i * 3 + 1] = c?.g ?? 0;
      l[i * 3 + 2] = c?.b ?? 0;
    }
    luts.set(scheme, l);
  }
  return l;
}

export interface ColourScale {
  mode: ScaleMode;
  scheme: Scheme;
  /** The value range the ramp spans (rank: the smallest and largest value). */
  domain: [number, number];
  /** Position on the ramp, 0..1. */
  t(v: number): number;
  /** CSS colour of a value. */
  css(v: number): string;
  /** Values to label the legend with. */
  ticks(count: number): number[];
}

/**
 * A scale fitted to `values` (the cells on screen). `include(i)` leaves cells out of the fit (the folded
 * first-token column, masked cells); they are still coloured, clamped to the ramp.
 */
export function fitScale(values: ArrayLike<number>, mode: ScaleMode, scheme: Scheme, include: (i: number) => boolean = () => true): ColourScale {
  let hi = 0;
  let lo = Number.POSITIVE_INFINITY;
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (!include(i)) continue;
    const v = values[i]!;
    if (v > hi) hi = v;
    if (v > 0 && v < lo) lo = v;
    if (mode === 'rank') kept.push(v);
  }
  if (!(hi > 0)) hi = 1;
  const table = lut(scheme);
  const cssOf = (t: number) => {
    const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
    return `rgb(${table[i]}, ${table[i + 1]}, ${table[i + 2]})`;
  };
  if (mode === 'linear') {
    const s = scaleLinear().domain([0, hi]).range([0, 1]).clamp(true);
    return { mode, scheme, domain: [0, hi], t: (v) => s(v), css: (v) => cssOf(s(v)), ticks: (n) => s.ticks(n) };
  }
  if (mode === 'log') {
    const floor = Math.max(hi * 1e-4, Number.isFinite(lo) ? Math.min(lo, hi) : hi * 1e-4, 1e-12);
    const s = scaleLog().domain([floor, hi]).range([0, 1]).clamp(true);
    const t = (v: number) => (v <= 0 ? 0 : s(v));
    return {
      mode,
      scheme,
      domain: [floor, hi],
      t,
      css: (v) => cssOf(t(v)),
      ticks: (n) => s.ticks(n).filter((_, i, a) => a.length <= n || i % Math.ceil(a.length / n) === 0),
    };
  }
  kept.sort((a, b) => a - b);
  const n = kept.length;
  const t = (v: number) => {
    if (n < 2) return v > 0 ? 1 : 0;
    // Mid-rank of equal values, so a column of zeros sits in one colour.
    const a = bisectLeft(kept, v);
    let b = a;
    while (b < n && kept[b] === v) b++;
    return Math.min(1, Math.max(0, (a + Math.max(a, b - 1)) / 2 / (n - 1)));
  };
  return {
    mode,
    scheme,
    domain: [kept[0] ?? 0, kept[n - 1] ?? 1],
    t,
    css: (v) => cssOf(t(v)),
    ticks: (c) => (n ? Array.from({ length: c }, (_, i) => kept[Math.round((i * (n - 1)) / Math.max(1, c - 1))]!) : []),
  };
}

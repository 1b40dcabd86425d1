/** CPU reference for rotary (float64 arithmetic on the float32 tables, float32 results). */
import type { RotaryStyle } from './rotary.js';

export interface RotaryRefArgs {
  /** [T, H·D] */
  x: Float32Array;
  numHeads: number;
  headDim: number;
  /** [P, R/2] */
  cos: Float32Array;
  sin: Float32Array;
  positionOffset: number;
  rotaryDim: number;
  style: RotaryStyle;
}

export function rotaryRef(a: RotaryRefArgs): Float32Array {
  const { x, numHeads: H, headDim: D, rotaryDim: R } = a;
  const half = R / 2;
  const T = x.length / (H * D);
  const y = Float32Array.from(x);
  for (let t = 0; t < T; t++) {
    const row = (a.positionOffset + t) * half;
    for (let h = 0; h < H; h++) {
      const base = (t * H + h) * D;
      for (let d = 0; d < half; d++) {
        const i1 = base + (a.style === 'half' ? d : 2 * d);
        const i2 = base + (a.style === 'half' ? d + half : 2 * d + 1);
        const c = a.cos[row + d]!;
        const s = a.sin[row + d]!;
        const x1 = x[i1]!;
        const x2 = x[i2]!;
        y[i1] = x1 * c - x2 * s;
        y[i2] = x2 * c + x1 * s;
      }
    }
  }
  return y;
}

/**
 * The same rotation written as HF writes it, for an independent check of the pair layout: 'half' builds the
 * full-width cos/sin (cat(freqs, freqs)) and rotate_half(x) = cat(−x2, x1); 'interleaved' repeats each
 * frequency twice and rotate_every_two(x) = (−x1, x0, −x3, x2, …).
 */
export function rotaryRefHf(a: RotaryRefArgs): Float32Array {
  const { x, numHeads: H, headDim: D, rotaryDim: R } = a;
  const half = R / 2;
  const T = x.length / (H * D);
  const y = Float32Array.from(x);
  for (let t = 0; t < T; t++) {
    const row = (a.positionOffset + t) * half;
    for (let h = 0; h < H; h++) {
      const base = (t * H + h) * D;
      for (let d = 0; d < R; d++) {
        const f = a.style === 'half' ? d % half : d >> 1;
        let rot: number;
        if (a.style === 'half') rot = d < half ? -x[base + d + half]! : x[base + d - half]!;
        else rot = d % 2 === 0 ? -x[base + d + 1]! : x[base + d - 1]!;
        y[base + d] = x[base + d]! * a.cos[row + f]! + rot * a.sin[row + f]!;
      }
    }
  }
  return y;
}

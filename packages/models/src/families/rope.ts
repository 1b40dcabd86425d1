/**
 * Rotary inverse frequencies, computed step by step in float32 as transformers computes them with torch
 * (every intermediate rounded to f32), so cos/sin tables match the reference implementation bit for bit
 * or within an ulp. torch evaluates `scalar / tensor` as reciprocal(tensor) · scalar, and scalars meeting
 * a float32 tensor are first rounded to float32; both are mirrored below.
 */
import type { ModelConfig, RotaryConfig } from './types.js';

const f = Math.fround;

/** inv_freq[i] = 1 / base^(2i / dim), i < dim/2, then the config's scaling. */
export function ropeInvFreq(config: ModelConfig | RotaryConfig): Float32Array {
  const rot = 'family' in config ? config.rotary : config;
  if (!rot) throw new TypeError('ropeInvFreq: this model has no rotary embedding');
  const half = rot.dim / 2;
  const base = f(rot.base);
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = f(f(2 * i) / f(rot.dim));
    inv[i] = f(1 / f(base ** exponent));
  }
  const s = rot.scaling;
  if (s.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = f(inv[i]! / f(s.factor));
  } else if (s.type === 'llama3') {
    applyLlama3(inv, s.factor, s.lowFreqFactor, s.highFreqFactor, s.originalMaxPositions);
  }
  return inv;
}

/**
 * Llama 3.1 frequency-dependent scaling. With wavelength λ = 2π / inv_freq and the original context C:
 * λ < C / high_freq_factor (high frequencies) keep inv_freq; λ > C / low_freq_factor (low frequencies)
 * divide it by `factor`; in between, blend the two with s = (C/λ − low) / (high − low):
 * (1 − s) · inv/factor + s · inv.
 */
function applyLlama3(inv: Float32Array, factor: number, low: number, high: number, ctx: number): void {
  const twoPi = f(2 * Math.PI);
  const lowWavelen = f(ctx / low);
  const highWavelen = f(ctx / high);
  const fac = f(factor);
  const lowF = f(low);
  const span = f(high - low);
  for (let i = 0; i < inv.length; i++) {
    const x = inv[i]!;
    const wavelen = f(f(1 / x) * twoPi);
    if (wavelen < highWavelen) continue;
    if (wavelen > lowWavelen) {
      inv[i] = f(x / fac);
      continue;
    }
    const smooth = f(f(f(f(1 / wavelen) * f(ctx)) - lowF) / span);
    inv[i] = f(f(f(f(1 - smooth) * x) / fac) + f(smooth * x));
  }
}

/** cos/sin tables [positions, dim/2] (position · inv_freq in float32, as torch's outer product). */
export function ropeTables(config: ModelConfig | RotaryConfig, positions: number): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInvFreq(config);
  const half = inv.length;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = f(p * inv[i]!);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

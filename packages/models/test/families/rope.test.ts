import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/families/registry.js';
import { ropeInvFreq, ropeTables } from '../../src/families/rope.js';
import type { RotaryConfig } from '../../src/families/types.js';
import { LLAMA_32_1B, PYTHIA_70M } from '../helpers/configs.js';

const f = Math.fround;

describe('ropeInvFreq', () => {
  it('default: 1/base^(2i/dim) in float32', () => {
    const rot: RotaryConfig = { dim: 8, base: 10000, style: 'half', scaling: { type: 'none' } };
    const inv = ropeInvFreq(rot);
    expect(inv.length).toBe(4);
    expect(inv[0]).toBe(1);
    expect(inv[1]).toBe(f(0.1));
    expect(inv[2]).toBe(f(0.01));
    expect(inv[3]).toBe(f(0.001));
  });

  it('Pythia rotates 16 of 64 dims: 8 frequencies', () => {
    const { config } = parseModelConfig(PYTHIA_70M);
    const inv = ropeInvFreq(config);
    expect(inv.length).toBe(8);
    for (let i = 0; i < 8; i++) expect(inv[i]).toBeCloseTo(10000 ** (-(2 * i) / 16), 7);
  });

  it('linear scaling divides every frequency by the factor', () => {
    const base: RotaryConfig = { dim: 16, base: 10000, style: 'half', scaling: { type: 'none' } };
    const plain = ropeInvFreq(base);
    const scaled = ropeInvFreq({ ...base, scaling: { type: 'linear', factor: 4 } });
    for (let i = 0; i < 8; i++) expect(scaled[i]).toBe(f(plain[i]! / 4));
  });

  it('llama3: high frequencies kept, low divided by the factor, the band between blended smoothly', () => {
    const { config } = parseModelConfig(LLAMA_32_1B);
    const plain = ropeInvFreq({ ...config.rotary!, scaling: { type: 'none' } });
    const inv = ropeInvFreq(config);
    expect(inv.length).toBe(32);
    const ctx = 8192;
    let kept = 0;
    let divided = 0;
    let blended = 0;
    for (let i = 0; i < 32; i++) {
      const x = plain[i]!;
      const wavelen = (2 * Math.PI) / x;
      if (wavelen < ctx / 4) {
        expect(inv[i]).toBe(x);
        kept++;
      } else if (wavelen > ctx / 1) {
        expect(inv[i]).toBe(f(x / 32));
        divided++;
      } else {
        // The formula in float64 as an independent check of the float32 steps.
        const s = (ctx / wavelen - 1) / (4 - 1);
        const want = ((1 - s) * x) / 32 + s * x;
        expect(Math.abs(inv[i]! - want) / want).toBeLessThan(1e-6);
        expect(inv[i]!).toBeLessThan(x);
        expect(inv[i]!).toBeGreaterThan(x / 32);
        blended++;
      }
    }
    // theta 500000, dim 64: wavelength 2π·500000^(i/32) < 2048 for i ≤ 14, > 8192 for i ≥ 18.
    expect([kept, blended, divided]).toEqual([15, 3, 14]);
    // Monotonic: scaling never reorders frequencies.
    for (let i = 1; i < 32; i++) expect(inv[i]!).toBeLessThan(inv[i - 1]!);
  });

  it('builds cos/sin tables [positions, dim/2]', () => {
    const rot: RotaryConfig = { dim: 4, base: 10000, style: 'half', scaling: { type: 'none' } };
    const { cos, sin } = ropeTables(rot, 3);
    expect(cos.length).toBe(6);
    expect(cos[0]).toBe(1);
    expect(sin[0]).toBe(0);
    expect(cos[2 * 2 + 0]).toBe(f(Math.cos(2)));
    expect(sin[2 * 2 + 1]).toBe(f(Math.sin(f(2 * f(0.01)))));
  });
});
